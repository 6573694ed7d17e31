import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { renderFirstBootUserData } from "./firstBoot";
import {
    architectureOf,
    IMDSV2_ONLY,
    newestDebianImageId,
    runningInstanceNamed,
    serverImageId,
    serviceAssumeRolePolicy,
    type RunningInstance,
} from "../ec2";
import type { ComponentContext } from "../context";

/** How long a new server has to boot and apply its plan before its health checks count. */
export const FIRST_BOOT_GRACE_SECONDS = 600;

/** How many servers a refresh may run at once, in percent of the group's size: half as many again. */
export const REFRESH_MAX_HEALTHY_PERCENT = 150;

/** How long a refreshed server counts as warming up after it passes its health check. */
export const REFRESH_WARMUP_SECONDS = 60;

/**
 * A rolling instance refresh that never lowers healthy capacity: new servers start and pass their
 * health checks before old ones stop (100% kept healthy, up to 150% running). No `autoRollback`:
 * the provider sets the group's new launch template version before it starts the refresh, so a
 * failed refresh would "roll back" to the version that failed (hashicorp/terraform-provider-aws
 * #34189). A rollback is the previous launch template version, started by hand (docs/fleet-rollback.md).
 */
export function rollingRefresh(): aws.types.input.autoscaling.GroupInstanceRefresh {
    return {
        strategy: "Rolling",
        preferences: {
            minHealthyPercentage: 100,
            maxHealthyPercentage: REFRESH_MAX_HEALTHY_PERCENT,
            instanceWarmup: String(REFRESH_WARMUP_SECONDS),
            skipMatching: true,
        },
    };
}

/**
 * How `pulumi up` waits for the group, in the terms of terraform-provider-aws's
 * internal/service/autoscaling/group.go (resourceGroupCreate, resourceGroupUpdate):
 * - on create, until at least `max(min_size, desired_capacity)` instances are InService and at least
 *   `wait_for_elb_capacity`, else `min_elb_capacity`, pass the target group's health check;
 * - on an update that changes `min_size` or `desired_capacity`, until exactly `max(min_size,
 *   desired_capacity)` are InService, desired_capacity being the state's (unset here, so what the
 *   last refresh read), and, when `wait_for_elb_capacity` is set, exactly that many are healthy
 *   targets; `min_elb_capacity` plays no part in an update.
 * So `min_elb_capacity` alone: a new fleet's up fails unless the group's minimum serves, while a
 * later change of minAppServers waits for no exact count of targets that target tracking or the old
 * minimum made different.
 */
export function capacityWait(bounds: { readonly min: number }): { minElbCapacity: number; waitForCapacityTimeout: string } {
    return { minElbCapacity: bounds.min, waitForCapacityTimeout: `${FIRST_BOOT_GRACE_SECONDS}s` };
}

/**
 * The image new app servers keep booting when the caller names none: the running servers' own while
 * the instance type keeps their architecture (a newer Debian image must not roll the fleet by
 * itself). Undefined before the first server, or across architectures: the newest Debian image of
 * the new one, which the instance refresh then rolls out.
 */
export function imageToKeep(running: RunningInstance | undefined, instanceType: string): string | undefined {
    return running !== undefined && architectureOf(running.instanceType) === architectureOf(instanceType) ? running.ami : undefined;
}

/** The average CPU the group scales to: out above it, in below it. */
export const TARGET_CPU_PERCENT = 50;

/**
 * What an app server may do: read its plan from the bucket, and the database's two credentials (the
 * master's for migrations, the app's). Nothing else. The first boot reads each plan object at the
 * version its index pins, which S3 authorizes as s3:GetObjectVersion, not s3:GetObject.
 */
export function appServerPolicy(bucketArn: string, databaseSecretArns: readonly string[]): string {
    return JSON.stringify({
        Version: "2012-10-17",
        Statement: [
            { Sid: "ReadPlan", Effect: "Allow", Action: "s3:GetObjectVersion", Resource: `${bucketArn}/plan/*` },
            { Sid: "ReadDatabaseCredentials", Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: databaseSecretArns },
        ],
    });
}

/** The role the app servers act as; its permissions come with them ({@link declareAppServers}). */
export function declareAppRole(context: ComponentContext): aws.iam.Role {
    return new aws.iam.Role(
        `${context.name}-app-role`,
        { assumeRolePolicy: serviceAssumeRolePolicy("ec2.amazonaws.com"), tags: context.tagsFor("app-role") },
        { parent: context.parent },
    );
}

export interface AppServerSettings {
    readonly role: aws.iam.Role;
    readonly instanceType: string;
    readonly amiId?: pulumi.Input<string>;
    readonly rootVolumeSizeGiB: number;
    readonly bounds: { readonly min: number; readonly max: number };
    readonly subnetIds: pulumi.Input<string[]>;
    readonly securityGroupId: pulumi.Input<string>;
    readonly targetGroupArn: pulumi.Input<string>;
    /** Where the first boot finds its plan: the region, the bucket and the version of the plan's index. */
    readonly plan: {
        readonly region: pulumi.Input<string>;
        readonly bucket: aws.s3.Bucket;
        readonly indexVersionId: pulumi.Input<string>;
        readonly indexSha256: pulumi.Input<string>;
    };
    /** The database's secrets: the master user's and the app user's. */
    readonly databaseSecretArns: pulumi.Input<string>[];
    /** What must exist before a server boots: the plan's index object. */
    readonly planReady: pulumi.Resource[];
    /** What must take connections before the first servers migrate: the database, and the app user's credentials. */
    readonly databaseReady: pulumi.Resource[];
}

/**
 * The app servers: their role's two permissions and instance profile, a hardened launch template whose
 * user data applies the plan at first boot, an Auto Scaling group behind the target group, rolled by
 * instance refresh, and CPU target tracking.
 */
export function declareAppServers(context: ComponentContext, servers: AppServerSettings): aws.autoscaling.Group {
    const { name, tagsFor } = context;
    const parent = { parent: context.parent };
    const { role, bounds } = servers;
    const appPolicy = new aws.iam.RolePolicy(
        `${name}-app-policy`,
        {
            role: role.id,
            policy: pulumi
                .all([servers.plan.bucket.arn, pulumi.all(servers.databaseSecretArns)])
                .apply(([bucketArn, secretArns]) => appServerPolicy(bucketArn, secretArns)),
        },
        parent,
    );
    const instanceProfile = new aws.iam.InstanceProfile(`${name}-app-profile`, { role: role.name, tags: tagsFor("app-profile") }, parent);
    const userData = pulumi
        .all([servers.plan.region, servers.plan.bucket.bucket, servers.plan.indexVersionId, servers.plan.indexSha256])
        .apply(([region, bucket, indexVersionId, indexSha256]) =>
            Buffer.from(renderFirstBootUserData({ region, bucket, indexVersionId, indexSha256 })).toString("base64"),
        );
    const imageId =
        servers.amiId === undefined
            ? runningInstanceNamed(tagsFor("app-server").Name, parent).apply((running) => {
                  const kept = imageToKeep(running, servers.instanceType);
                  return kept === undefined ? newestDebianImageId(servers.instanceType, parent) : pulumi.output(kept);
              })
            : serverImageId(servers.amiId, servers.instanceType, parent);
    const launchTemplate = new aws.ec2.LaunchTemplate(
        `${name}-app`,
        {
            imageId,
            instanceType: servers.instanceType,
            iamInstanceProfile: { arn: instanceProfile.arn },
            // A public address whatever the subnet's default: with no NAT gateway, it is how the
            // server reaches S3, Secrets Manager and Debian's mirror at first boot.
            networkInterfaces: [
                {
                    deviceIndex: 0,
                    associatePublicIpAddress: "true",
                    securityGroups: [servers.securityGroupId],
                    deleteOnTermination: "true",
                },
            ],
            metadataOptions: IMDSV2_ONLY,
            blockDeviceMappings: [
                {
                    deviceName: "/dev/xvda",
                    ebs: { volumeType: "gp3", volumeSize: servers.rootVolumeSizeGiB, encrypted: "true", deleteOnTermination: "true" },
                },
            ],
            userData,
            updateDefaultVersion: true,
            tagSpecifications: [
                { resourceType: "instance", tags: tagsFor("app-server") },
                { resourceType: "volume", tags: tagsFor("app-server-root") },
            ],
            tags: tagsFor("app-template"),
        },
        // A server boots only once its plan is in the bucket and its role may read it.
        { ...parent, dependsOn: [...servers.planReady, appPolicy] },
    );
    const group = new aws.autoscaling.Group(
        `${name}-app`,
        {
            vpcZoneIdentifiers: servers.subnetIds,
            minSize: bounds.min,
            maxSize: bounds.max,
            launchTemplate: { id: launchTemplate.id, version: launchTemplate.latestVersion.apply(String) },
            targetGroupArns: [servers.targetGroupArn],
            healthCheckType: "ELB",
            healthCheckGracePeriod: FIRST_BOOT_GRACE_SECONDS,
            // A new fleet's `pulumi up` fails, rather than reporting success, when its servers do not pass the load balancer's health check.
            ...capacityWait(bounds),
            instanceRefresh: rollingRefresh(),
            tags: Object.entries(tagsFor("app-server")).map(([key, value]) => ({ key, value, propagateAtLaunch: true })),
        },
        // The database must take connections before the first servers migrate it.
        { ...parent, dependsOn: servers.databaseReady },
    );
    new aws.autoscaling.Policy(
        `${name}-app-cpu`,
        {
            autoscalingGroupName: group.name,
            policyType: "TargetTrackingScaling",
            targetTrackingConfiguration: {
                predefinedMetricSpecification: { predefinedMetricType: "ASGAverageCPUUtilization" },
                targetValue: TARGET_CPU_PERCENT,
            },
        },
        parent,
    );
    return group;
}
