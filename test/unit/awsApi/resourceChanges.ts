import type { RecordedResource } from "../../support/pulumiMocks";
import type { ModelService } from "../../support/awsApiModels";

/**
 * How AWS's provider (terraform-provider-aws, which pulumi-aws wraps) applies a change of a
 * resource's inputs: the inputs that replace the resource (ForceNew in its schema), and the API calls
 * that update each other input in place. Each entry names the provider's file that says so. Pure.
 */
export interface ResourceChanges {
    readonly service: ModelService;
    /** The provider's file, under internal/service/, whose schema and update function these facts come from. */
    readonly source: string;
    /** Inputs (paths, list items left out) whose change makes the provider delete and create the resource. */
    readonly replacing: readonly string[];
    /** The calls an in-place change of an input makes, in order, by input path or its prefix; [] for none sent to AWS. */
    readonly updates: Readonly<Record<string, readonly string[]>>;
}

export const RESOURCE_CHANGES: Readonly<Record<string, ResourceChanges>> = {
    "aws:autoscaling/group:Group": {
        service: "autoscaling",
        source: "autoscaling/group.go",
        replacing: ["name", "namePrefix"],
        updates: {
            minSize: ["UpdateAutoScalingGroup"],
            maxSize: ["UpdateAutoScalingGroup"],
            // How many healthy servers the provider waits for; nothing is sent.
            minElbCapacity: [],
        },
    },
    "aws:dlm/lifecyclePolicy:LifecyclePolicy": {
        service: "dlm",
        source: "dlm/lifecycle_policy.go",
        replacing: [],
        updates: { "": ["UpdateLifecyclePolicy"] },
    },
    "aws:ec2/instance:Instance": {
        service: "ec2",
        source: "ec2/ec2_instance.go",
        replacing: [
            "ami",
            "availabilityZone",
            "subnetId",
            "keyName",
            "privateIp",
            "tenancy",
            "placementGroup",
            "hostId",
            "associatePublicIpAddress",
            "ebsBlockDevices",
            "ephemeralBlockDevices",
            "networkInterfaces",
            "launchTemplate",
            "cpuOptions",
            "hibernation",
            "rootBlockDevice.encrypted",
            "rootBlockDevice.kmsKeyId",
        ],
        updates: {
            // An instance's type changes only while it is stopped: the server is down for a minute or two.
            instanceType: ["StopInstances", "ModifyInstanceAttribute", "StartInstances"],
            "rootBlockDevice.volumeSize": ["ModifyVolume"],
        },
    },
    "aws:ec2/keyPair:KeyPair": {
        service: "ec2",
        source: "ec2/ec2_key_pair.go",
        replacing: ["keyName", "keyNamePrefix", "publicKey"],
        updates: {},
    },
    "aws:ec2/launchTemplate:LaunchTemplate": {
        service: "ec2",
        source: "ec2/ec2_launch_template.go",
        replacing: ["name", "namePrefix"],
        // Every change is a new version, made the default (updateDefaultVersion); the group's refresh rolls it out.
        updates: { "": ["CreateLaunchTemplateVersion", "ModifyLaunchTemplate"] },
    },
    "aws:ec2/securityGroup:SecurityGroup": {
        service: "ec2",
        source: "ec2/vpc_security_group.go",
        replacing: ["name", "namePrefix", "description", "vpcId"],
        updates: {
            ingress: ["AuthorizeSecurityGroupIngress", "RevokeSecurityGroupIngress"],
        },
    },
    "aws:rds/instance:Instance": {
        service: "rds",
        source: "rds/instance.go",
        replacing: [
            "identifier",
            "identifierPrefix",
            "dbName",
            "username",
            "engine",
            "storageEncrypted",
            "kmsKeyId",
            "availabilityZone",
            "characterSetName",
            "timezone",
            "snapshotIdentifier",
        ],
        updates: { "": ["ModifyDBInstance"] },
    },
    "aws:route53/record:Record": {
        service: "route53",
        // name and zone_id are ForceNew; type, ttl and the records are not: an update is an UPSERT.
        source: "route53/record.go",
        replacing: ["name", "zoneId"],
        updates: { "": ["ChangeResourceRecordSets"] },
    },
    "aws:s3/bucket:Bucket": {
        service: "s3",
        source: "s3/bucket.go",
        replacing: ["bucket", "bucketPrefix", "objectLockEnabled"],
        updates: {},
    },
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": {
        service: "s3",
        source: "s3/bucket_lifecycle_configuration.go",
        replacing: ["bucket", "expectedBucketOwner"],
        updates: { rules: ["PutBucketLifecycleConfiguration"] },
    },
    "aws:sns/topicSubscription:TopicSubscription": {
        service: "sns",
        // endpoint, protocol and topic_arn are ForceNew: a new address is a new subscription, confirmed anew.
        source: "sns/topic_subscription.go",
        replacing: ["endpoint", "protocol", "topic"],
        updates: { "": ["SetSubscriptionAttributes"] },
    },
};

/** Every leaf of a value by its path (keys joined by dots, list items as `[index]`), with its value as JSON. */
function leaves(value: unknown, path = ""): Map<string, string> {
    const found = new Map<string, string>();
    if (value !== null && typeof value === "object") {
        for (const [key, item] of Object.entries(value)) {
            const itemPath = Array.isArray(value) ? `${path}[${key}]` : path === "" ? key : `${path}.${key}`;
            leaves(item, itemPath).forEach((leaf, leafPath) => found.set(leafPath, leaf));
        }
    } else {
        found.set(path, JSON.stringify(value));
    }
    return found;
}

/** The input paths (list indexes left out) whose values differ between two declarations of a resource, minus those it ignores. */
export function changedInputs(before: RecordedResource, after: RecordedResource): string[] {
    const [old, now] = [leaves(before.inputs), leaves(after.inputs)];
    const paths = [...new Set([...old.keys(), ...now.keys()])].filter((path) => old.get(path) !== now.get(path));
    const unindexed = [...new Set(paths.map((path) => path.replace(/\[\d+\]/g, "")))];
    return unindexed.filter((path) => !after.ignoreChanges.some((ignored) => covers(ignored, path))).sort();
}

/** Whether `prefix` names `path` or a structure it is in; "" names every path. */
function covers(prefix: string, path: string): boolean {
    return prefix === "" || path === prefix || path.startsWith(`${prefix}.`);
}

/** Whether a change of this input replaces a resource of this type. */
export function replaces(type: string, path: string): boolean {
    return RESOURCE_CHANGES[type]?.replacing.some((input) => covers(input, path)) ?? false;
}

/**
 * What the provider does about a changed input: "replace", the calls that update it in place, or
 * "unmodelled" when the table has no fact for it (a new input or resource type to look up).
 */
export function changeOf(type: string, path: string): "replace" | "unmodelled" | readonly string[] {
    if (replaces(type, path)) {
        return "replace";
    }
    const updates = Object.entries(RESOURCE_CHANGES[type]?.updates ?? {})
        .filter(([input]) => covers(input, path))
        .sort(([a], [b]) => b.length - a.length);
    return updates.length === 0 ? "unmodelled" : updates[0][1];
}
