import type { BackupBucket } from "../plan";

/** S3's rules for a bucket name: 3 to 63 lower-case letters, digits, dots and dashes, a letter or digit at each end. */
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
/** A key prefix the scripts can put in a URL as it is: no slash at either end, no space or shell character. */
const KEY_PREFIX = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;

/** `target`; throws, naming the field and the rule, unless the backups can be sent there. */
export function checkedBackupBucket(target: BackupBucket): BackupBucket {
    if (!BUCKET_NAME.test(target.bucket)) {
        throw new Error(
            `backupBucket.bucket "${target.bucket}" is not an S3 bucket name (3-63 lower-case letters, digits, dots and dashes).`,
        );
    }
    if (!KEY_PREFIX.test(target.prefix)) {
        throw new Error(
            `backupBucket.prefix "${target.prefix}" must be letters, digits, dots, dashes and underscores in parts joined by "/", without a slash at either end.`,
        );
    }
    if (!REGION.test(target.region)) {
        throw new Error(`backupBucket.region "${target.region}" is not an AWS region; expected for example eu-central-1.`);
    }
    return target;
}

/** `/etc/webstack/backup-bucket.env`: the bucket, the prefix and the region, or an empty bucket when the backups stay on the server. */
export function renderBackupBucketSettings(target: BackupBucket | null): string {
    if (target === null) {
        return "# No backup bucket: the backups stay on this server.\nBACKUP_BUCKET=\n";
    }
    const { bucket, prefix, region } = checkedBackupBucket(target);
    return `BACKUP_BUCKET=${bucket}\nBACKUP_PREFIX=${prefix}\nAWS_REGION=${region}\n`;
}
