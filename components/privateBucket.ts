import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import type { ComponentContext } from "./context";

/** A private bucket's policy: every request over plain HTTP refused, then `statements`. */
export function privateBucketPolicy(bucketArn: string, statements: readonly Record<string, unknown>[]): string {
    const denyPlainHttp = {
        Sid: "DenyPlainHttp",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: [bucketArn, `${bucketArn}/*`],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
    };
    return JSON.stringify({ Version: "2012-10-17", Statement: [denyPlainHttp, ...statements] });
}

export interface PrivateBucketSettings {
    /** What the bucket holds: its resources are named `<component>-<purpose>-...`, and so is its tag. */
    readonly purpose: string;
    /** Its lifecycle rules; an incomplete multipart upload is always aborted after a day. */
    readonly lifecycleRules: aws.types.input.s3.BucketLifecycleConfigurationRule[];
    /**
     * Tags the bucket keeps as it was made, whatever later runs give: a record of its creation that
     * the policy may read. Defaults to none.
     */
    readonly recordedTags?: Record<string, pulumi.Input<string>>;
    /** Its policy, rendered from the bucket's ARN and its tags as AWS keeps them ({@link privateBucketPolicy}). */
    readonly policy: (bucketArn: string, tags: Readonly<Record<string, string>>) => pulumi.Output<string>;
}

/**
 * A bucket that never serves the public: public access blocked, ACLs off, versioned, encrypted, its
 * lifecycle rules applied once versioning is on, and its policy. Protected like the server and the database: `pulumi destroy` stops at it until
 * lift-protection.sh lifts it. Returns the versioning too, which every object put in it must follow.
 */
export function declarePrivateBucket(
    context: ComponentContext,
    settings: PrivateBucketSettings,
): { bucket: aws.s3.Bucket; versioning: aws.s3.BucketVersioning } {
    const { tagsFor } = context;
    const name = `${context.name}-${settings.purpose}`;
    const parent = { parent: context.parent };
    const recordedTags = settings.recordedTags ?? {};
    const bucket = new aws.s3.Bucket(
        name,
        { forceDestroy: true, tags: { ...tagsFor(settings.purpose), ...recordedTags } },
        { ...parent, protect: true, ignoreChanges: Object.keys(recordedTags).map((key) => `tags["${key}"]`) },
    );
    const publicAccess = new aws.s3.BucketPublicAccessBlock(
        `${name}-public-access`,
        { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
        parent,
    );
    new aws.s3.BucketOwnershipControls(
        `${name}-ownership`,
        { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } },
        parent,
    );
    const versioning = new aws.s3.BucketVersioning(
        `${name}-versioning`,
        { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } },
        parent,
    );
    new aws.s3.BucketServerSideEncryptionConfiguration(
        `${name}-encryption`,
        { bucket: bucket.id, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" }, bucketKeyEnabled: true }] },
        parent,
    );
    new aws.s3.BucketLifecycleConfiguration(
        `${name}-lifecycle`,
        {
            bucket: bucket.id,
            rules: settings.lifecycleRules.map((rule) => ({ ...rule, abortIncompleteMultipartUpload: { daysAfterInitiation: 1 } })),
        },
        { ...parent, dependsOn: [versioning] },
    );
    new aws.s3.BucketPolicy(
        `${name}-policy`,
        {
            bucket: bucket.id,
            policy: pulumi.all([bucket.arn, bucket.tags]).apply(([bucketArn, tags]) => settings.policy(bucketArn, tags ?? {})),
        },
        { ...parent, dependsOn: [publicAccess] },
    );
    return { bucket, versioning };
}
