import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { stepHoldsSecrets, type FleetInputs, type Plan } from "../../provisioning";
import type { ComponentContext } from "../context";
import { declarePrivateBucket, privateBucketPolicy } from "../privateBucket";
import { contentSha256, PLAN_INDEX_KEY, planObjectKey, planObjects, renderPlanIndex, type PlanObject } from "./firstBoot";

/**
 * The principal ARNs a bucket policy names for an identity: an assumed role's session ARN, or a role's
 * ARN without a path, becomes its role's ARN with or without a path; a user's ARN stays.
 */
export function principalArnPatterns(arn: string): string[] {
    const role = /^arn:(aws[a-z-]*):(?:sts::(\d{12}):assumed-role\/([^/]+)\/.+|iam::(\d{12}):role\/([^/]+))$/.exec(arn);
    if (role === null) {
        return [arn];
    }
    const [, partition, sessionAccount, sessionRole, roleAccount, roleName] = role;
    const [account, name] = [sessionAccount ?? roleAccount, sessionRole ?? roleName];
    return [`arn:${partition}:iam::${account}:role/${name}`, `arn:${partition}:iam::${account}:role/*/${name}`];
}

/** True when `arn` is one that `pattern` names, as the policy's StringLike compares them (`*` any run, `?` any one character). */
function namedBy(pattern: string, arn: string): boolean {
    const expression = pattern
        .replace(/[.+^${}()|[\]\\]/g, "\\$&")
        .replace(/\*/g, ".*")
        .replace(/\?/g, ".");
    return new RegExp(`^${expression}$`).test(arn);
}

/** The tag of the plan bucket that records who created it: kept as it was made ({@link declarePlanBucket}). */
export const PLAN_BUCKET_CREATOR_TAG = "webstack-created-by";

/**
 * Who may read the plan besides the app servers. Configured deployers, when given, and then the
 * identity applying the policy must be one of them: a policy that denies its own author fails that
 * identity's next refresh and every read-back after. Otherwise the bucket's creator (CI, as a rule)
 * and whoever applies it now: a colleague's `pulumi up` never locks the creator out. A preview
 * applies nothing, so its identity (a pull request's read-only role) is neither added nor checked.
 */
export function planReaders(run: { callerArn: string; creatorArn: string; deployerArns?: readonly string[]; applying: boolean }): string[] {
    const caller = run.applying ? principalArnPatterns(run.callerArn) : [];
    if (run.deployerArns === undefined) {
        return [...new Set([...principalArnPatterns(run.creatorArn), ...caller])];
    }
    if (run.applying && !run.deployerArns.some((arn) => caller.some((pattern) => namedBy(pattern, arn)))) {
        throw new Error(
            `deployerArns (${run.deployerArns.join(", ")}) leaves out ${run.callerArn}, which runs this: the plan bucket's policy would deny it the plan it writes. Add its role or user, for example: pulumi config set --path 'webstack:deployerArns[${run.deployerArns.length}]' ${caller[0]}`,
        );
    }
    return [...run.deployerArns];
}

/**
 * The plan bucket's policy: nothing over plain HTTP, and no object read, current or earlier version,
 * by anyone but the app servers' role and the deployers (Pulumi reads back what it wrote, on up,
 * preview and refresh), whatever IAM policies elsewhere in the account allow. `deployerArns`:
 * principal ARNs or patterns.
 */
export function planBucketPolicy(bucketArn: string, appServerRoleArn: string, deployerArns: readonly string[]): string {
    return privateBucketPolicy(bucketArn, [
        {
            Sid: "OnlyAppServersRead",
            Effect: "Deny",
            Principal: "*",
            // A read that names a version is authorized as s3:GetObjectVersion alone.
            Action: ["s3:GetObject", "s3:GetObjectVersion"],
            Resource: `${bucketArn}/*`,
            Condition: { StringNotLike: { "aws:PrincipalArn": [appServerRoleArn, ...deployerArns] } },
        },
    ]);
}

/**
 * How long the bucket keeps a plan object's replaced versions: a launch template's earlier version
 * can be rolled back to for a month after the deploy that replaced it. This rule is what prunes the
 * plans nobody can roll back to any more.
 */
export const PLAN_VERSIONS_KEPT_DAYS = 30;

/**
 * The bucket every server's first boot reads its plan from: a private bucket ({@link declarePrivateBucket})
 * whose replaced versions are kept for {@link PLAN_VERSIONS_KEPT_DAYS}, read by the app servers' role alone.
 */
export function declarePlanBucket(
    context: ComponentContext,
    { appServerRoleArn, deployerArns }: { appServerRoleArn: pulumi.Output<string>; deployerArns?: readonly string[] },
): { bucket: aws.s3.Bucket; versioning: aws.s3.BucketVersioning } {
    const callerArn = aws.getCallerIdentityOutput({}, { parent: context.parent }).arn;
    return declarePrivateBucket(context, {
        purpose: "plan",
        // The creator's principal, as the bucket was made: later runs keep it whoever runs them.
        recordedTags: { [PLAN_BUCKET_CREATOR_TAG]: callerArn.apply((arn) => principalArnPatterns(arn)[0]) },
        lifecycleRules: [
            {
                id: "expire-replaced-plan-versions",
                status: "Enabled",
                filter: { prefix: "plan/" },
                noncurrentVersionExpiration: { noncurrentDays: PLAN_VERSIONS_KEPT_DAYS },
            },
        ],
        policy: (bucketArn, recordedTags) =>
            pulumi.all([appServerRoleArn, callerArn]).apply(([roleArn, caller]) =>
                planBucketPolicy(
                    bucketArn,
                    roleArn,
                    planReaders({
                        callerArn: caller,
                        creatorArn: recordedTags[PLAN_BUCKET_CREATOR_TAG],
                        deployerArns,
                        applying: !pulumi.runtime.isDryRun(),
                    }),
                ),
            ),
    });
}

interface PlanObjectSettings {
    readonly bucket: aws.s3.Bucket;
    readonly versioning: aws.s3.BucketVersioning;
    readonly domain: pulumi.Output<string>;
    readonly fleet: pulumi.Output<FleetInputs>;
    readonly appEnvironment: pulumi.Input<Record<string, pulumi.Input<string>>>;
}

/**
 * One bucket object per plan step, and the index that pins each one's version: what a new server
 * fetches at first boot. A changed step is a new version of its object, never a new object, and
 * the objects outlive their resources (`retainOnDelete`): the provider deletes every version of an
 * object it deletes, which would break the launch template versions a rollback goes back to. The
 * bucket's lifecycle rule prunes replaced versions ({@link PLAN_VERSIONS_KEPT_DAYS}).
 *
 * The app's environment is a secret, so only its step's object is rendered from it; the object's
 * hash and version, which reveal nothing of it, are plain, so that the index and the user data show
 * in a preview.
 */
export function declarePlanObjects(
    context: ComponentContext,
    plan: Plan<"fleet">,
    objects: PlanObjectSettings,
): { object: aws.s3.BucketObjectv2; versionId: pulumi.Output<string>; sha256: pulumi.Output<string> } {
    const { name } = context;
    const options: pulumi.CustomResourceOptions = { parent: context.parent, retainOnDelete: true };
    const stored = plan.map((step) => {
        const object: pulumi.Output<PlanObject> = stepHoldsSecrets(step)
            ? pulumi
                  .output(objects.appEnvironment)
                  .apply((environment) => planObjects([step], { domain: "", appEnvironment: environment })[0])
            : pulumi.all([objects.domain, objects.fleet]).apply(([domain, fleet]) => planObjects([step], { domain, fleet })[0]);
        const content = object.apply((planned) => planned.content);
        const resource = new aws.s3.BucketObjectv2(
            `${name}-plan-${step.name}`,
            {
                bucket: objects.bucket.id,
                key: planObjectKey(step.name),
                ...(step.kind === "upload"
                    ? { source: new pulumi.asset.FileAsset(step.localPath) }
                    : { content: stepHoldsSecrets(step) ? pulumi.secret(content) : content }),
                contentType: step.kind === "upload" ? "application/gzip" : "text/x-shellscript",
            },
            { ...options, dependsOn: [objects.versioning] },
        );
        return pulumi
            .all([pulumi.unsecret(object.apply(({ content: _content, ...summary }) => summary)), resource.versionId])
            .apply(([summary, versionId]) => ({ ...summary, versionId }));
    });
    const index = pulumi.all(stored).apply((objects) => renderPlanIndex(objects));
    const object = new aws.s3.BucketObjectv2(
        `${name}-plan-index`,
        { bucket: objects.bucket.id, key: PLAN_INDEX_KEY, content: index, contentType: "text/plain" },
        { ...options, dependsOn: [objects.versioning] },
    );
    return { object, versionId: object.versionId, sha256: index.apply(contentSha256) };
}
