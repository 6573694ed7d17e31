import * as aws from "@pulumi/aws";
import { serviceAssumeRolePolicy } from "../ec2";
import type { ComponentContext } from "../context";
import { declarePrivateBucket, privateBucketPolicy } from "../privateBucket";
import type { IntegerBounds } from "../../provisioning/settingChecks";

/** How many days the backup bucket keeps a server's dumps and binary logs unless told otherwise. */
export const DEFAULT_BACKUP_RETENTION_DAYS = 14;
/** The longest retention the setting takes: ten years. */
export const MAX_BACKUP_RETENTION_DAYS = 3650;

/** How many days the backup bucket may keep a server's backups. */
export const BACKUP_RETENTION_BOUNDS: IntegerBounds = { min: 1, max: MAX_BACKUP_RETENTION_DAYS, example: DEFAULT_BACKUP_RETENTION_DAYS };

/**
 * What the server's role may never do to the backup bucket, whatever else it is granted: delete an
 * object or any version of it, or change the rules that keep them. Someone who takes over the server
 * can add new objects, never erase the history.
 */
export const BACKUP_WRITER_DENIED_ACTIONS = [
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:PutLifecycleConfiguration",
    "s3:PutBucketPolicy",
    "s3:DeleteBucketPolicy",
    "s3:PutBucketVersioning",
    "s3:PutBucketObjectLockConfiguration",
    "s3:PutEncryptionConfiguration",
    "s3:PutBucketPublicAccessBlock",
    "s3:PutBucketOwnershipControls",
    "s3:DeleteBucket",
] as const;

/**
 * The server's role policy on the backup bucket: put and read objects (any version) under its own
 * prefix and list the bucket, and the {@link BACKUP_WRITER_DENIED_ACTIONS} denied on the whole bucket;
 * and the backups' health reported to CloudWatch for the alarms.
 */
export function backupWriterPolicy(bucketArn: string, prefix: string): string {
    return JSON.stringify({
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "WriteAndReadOwnBackups",
                Effect: "Allow",
                Action: ["s3:PutObject", "s3:GetObject", "s3:GetObjectVersion", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
                Resource: `${bucketArn}/${prefix}/*`,
            },
            // The bucket is the stack's alone, so listing it shows nothing of anyone else's.
            { Sid: "ListBackups", Effect: "Allow", Action: ["s3:ListBucket", "s3:ListBucketVersions"], Resource: bucketArn },
            // PutMetricData names no resource; the worst a false report does is raise or silence an alarm.
            { Sid: "ReportBackupHealth", Effect: "Allow", Action: "cloudwatch:PutMetricData", Resource: "*" },
            {
                Sid: "NeverEraseBackups",
                Effect: "Deny",
                Action: [...BACKUP_WRITER_DENIED_ACTIONS],
                Resource: [bucketArn, `${bucketArn}/*`],
            },
        ],
    });
}

/**
 * The backup bucket's policy: nothing over plain HTTP, and the {@link BACKUP_WRITER_DENIED_ACTIONS}
 * refused to the server's role here too, so that no permission granted to it elsewhere in the account
 * lets it erase a backup.
 */
export function backupBucketPolicy(bucketArn: string, serverRoleArn: string): string {
    return privateBucketPolicy(bucketArn, [
        {
            Sid: "ServerNeverErasesBackups",
            Effect: "Deny",
            Principal: { AWS: serverRoleArn },
            Action: [...BACKUP_WRITER_DENIED_ACTIONS],
            Resource: [bucketArn, `${bucketArn}/*`],
        },
    ]);
}

/** The lifecycle of a server's backups: each object, and each version an upload replaced, is kept for `retentionDays`. */
export function backupLifecycleRules(prefix: string, retentionDays: number): aws.types.input.s3.BucketLifecycleConfigurationRule[] {
    return [
        {
            id: "keep-backups-for-retention-days",
            status: "Enabled",
            filter: { prefix: `${prefix}/` },
            expiration: { days: retentionDays },
            noncurrentVersionExpiration: { noncurrentDays: retentionDays },
        },
    ];
}

export interface BackupSettings {
    /** The key prefix the server writes under, without a slash at either end: a new server of the same stack finds the old one's backups there. */
    readonly prefix: string;
    readonly retentionDays: number;
}

/**
 * The bucket a server's database backups leave it for (dumps and binary logs), and the role the server
 * acts as to write them: a private bucket ({@link declarePrivateBucket}) that keeps every object for the
 * retention, and an instance profile whose role may add backups and read them back, never erase them.
 */
export function declareBackups(
    context: ComponentContext,
    settings: BackupSettings,
): { bucket: aws.s3.Bucket; instanceProfile: aws.iam.InstanceProfile; writerPolicy: aws.iam.RolePolicy } {
    const { name, tagsFor } = context;
    const parent = { parent: context.parent };
    const role = new aws.iam.Role(
        `${name}-server-role`,
        { assumeRolePolicy: serviceAssumeRolePolicy("ec2.amazonaws.com"), tags: tagsFor("server-role") },
        parent,
    );
    const { bucket } = declarePrivateBucket(context, {
        purpose: "backups",
        lifecycleRules: backupLifecycleRules(settings.prefix, settings.retentionDays),
        policy: (bucketArn) => role.arn.apply((roleArn) => backupBucketPolicy(bucketArn, roleArn)),
    });
    const writerPolicy = new aws.iam.RolePolicy(
        `${name}-server-backups-policy`,
        { role: role.id, policy: bucket.arn.apply((bucketArn) => backupWriterPolicy(bucketArn, settings.prefix)) },
        parent,
    );
    const instanceProfile = new aws.iam.InstanceProfile(
        `${name}-server-profile`,
        { role: role.name, tags: tagsFor("server-profile") },
        parent,
    );
    return { bucket, instanceProfile, writerPolicy };
}
