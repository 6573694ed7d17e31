import { renderBackupBucketSettings } from "../files/backupBucket";
import { renderBackupCommand, renderReportMetricsCommand, renderRestoreCommand, renderShipBackupsCommand } from "../files/commands";
import {
    renderBackupService,
    renderBackupTimer,
    renderReportMetricsService,
    renderReportMetricsTimer,
    renderShipBackupsService,
    renderShipBackupsTimer,
    renderVerifyBackupsService,
    renderVerifyBackupsTimer,
} from "../files/systemd";
import {
    BACKUP_BUCKET_ENV_FILE,
    BACKUP_COMMAND,
    BACKUP_DIR,
    BACKUP_STATE_DIR,
    BACKUP_TIMER,
    BACKUP_UNIT,
    REPORT_METRICS_COMMAND,
    REPORT_METRICS_TIMER,
    REPORT_METRICS_UNIT,
    RESTORE_COMMAND,
    SHIP_BACKUPS_COMMAND,
    SHIP_BACKUPS_TIMER,
    SHIP_BACKUPS_UNIT,
    VERIFY_BACKUPS_TIMER,
    VERIFY_BACKUPS_UNIT,
} from "../layout";
import { RunStep } from "../plan";
import { runStep, runStepFrom, scriptBody } from "../script";

/**
 * The app's database backed up: a dump every night, the command that restores one, every half minute
 * the binary logs and dumps the backup bucket lacks sent to it ({@link backupBucketStep} says where),
 * every night a restore of the bucket's copy that proves it, and every minute the backups' health
 * reported to CloudWatch for the alarms.
 */
export function backupsStep(): RunStep {
    return runStep("backups", {
        description:
            "Back up the app's database every night, ship the backups off the server every half minute, prove every night that they restore, and report their health every minute.",
        settings: {
            BACKUP_DIR,
            BACKUP_STATE_DIR,
            BACKUP_COMMAND,
            BACKUP_SCRIPT: renderBackupCommand(),
            RESTORE_COMMAND,
            RESTORE_SCRIPT: renderRestoreCommand(),
            SHIP_BACKUPS_COMMAND,
            SHIP_BACKUPS_SCRIPT: renderShipBackupsCommand(),
            BACKUP_UNIT,
            BACKUP_SERVICE: renderBackupService(),
            BACKUP_TIMER,
            BACKUP_TIMER_UNIT: renderBackupTimer(),
            SHIP_BACKUPS_UNIT,
            SHIP_BACKUPS_SERVICE: renderShipBackupsService(),
            SHIP_BACKUPS_TIMER,
            SHIP_BACKUPS_TIMER_UNIT: renderShipBackupsTimer(),
            VERIFY_BACKUPS_UNIT,
            VERIFY_BACKUPS_SERVICE: renderVerifyBackupsService(),
            VERIFY_BACKUPS_TIMER,
            VERIFY_BACKUPS_TIMER_UNIT: renderVerifyBackupsTimer(),
            REPORT_METRICS_COMMAND,
            REPORT_METRICS_SCRIPT: renderReportMetricsCommand(),
            REPORT_METRICS_UNIT,
            REPORT_METRICS_SERVICE: renderReportMetricsService(),
            REPORT_METRICS_TIMER,
            REPORT_METRICS_TIMER_UNIT: renderReportMetricsTimer(),
        },
        body: scriptBody("backups"),
    });
}

/** Where the backups leave the server for: the executor's backupBucket input, or nowhere. */
export function backupBucketStep(): RunStep {
    return runStepFrom("backup-bucket", "backupBucket", (target) => ({
        description: "Say which bucket the backups leave the server for.",
        settings: { BACKUP_BUCKET_ENV_FILE, BACKUP_BUCKET_SETTINGS: renderBackupBucketSettings(target) },
        body: scriptBody("backup-bucket"),
    }));
}
