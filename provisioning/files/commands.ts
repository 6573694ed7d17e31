import { renderCommand, scriptBody } from "../script";
import { renderUpstream, UPSTREAM_FAIL_TIMEOUT_SECONDS } from "./nginx";
import {
    ACTIVATE_COMMAND,
    APP_DATABASE,
    APP_SOCKET_DIR,
    DEFAULT_HEALTH_PATH,
    APP_UNIT_TEMPLATE,
    BACKUP_DIR,
    BACKUPS_KEPT,
    CURRENT_LINK,
    NGINX_UPSTREAM_FILE,
    PREVIOUS_LINK,
    RELEASES_DIR,
    BACKUP_COMMAND,
    RESTORE_COMMAND,
    SHIP_BACKUPS_COMMAND,
    BACKUP_BUCKET_ENV_FILE,
    BACKUP_STATE_DIR,
    MARIADB_DATA_DIR,
    SYSTEM_CA_BUNDLE,
    AWS_CLI_CONFIG_FILE,
    SERVER_METRICS,
    SERVING_LINK,
    MAINTENANCE_DIR,
    MAINTENANCE_RENDERER,
    REBOOT_REQUIRED_FILE,
} from "../layout";
import { MIGRATION_SETTINGS } from "./systemd";
import { DEFAULT_MAINTENANCE_MESSAGE, MAINTENANCE_FILES, MAX_MAINTENANCE_MESSAGE_LENGTH } from "./maintenance";

/** Commands installed in /usr/local/sbin (and certbot's hook): operators run them, and so do the steps. */

/** How long a restarted instance has to run the new release and answer its health path. */
const READY_TIMEOUT_SECONDS = 60;
/** How many times systemd may start a restarted instance again by itself (it crashed) before the deploy gives up on it. */
export const CRASH_LOOP_RESTARTS = 3;
/** How long a reload's retired nginx workers have to finish requests to a drained instance. */
const DRAIN_TIMEOUT_SECONDS = 30;

/** `webstack-activate [--check | --restart-all] RELEASE_ID`: switch `current` and restart instances one at a time. */
export function renderActivateCommand(ports: readonly number[]): string {
    return renderCommand({
        description: "webstack-activate: make a release current and roll it out to every app instance without dropping a request.",
        settings: {
            RELEASES_DIR,
            CURRENT_LINK,
            PREVIOUS_LINK,
            SERVING_LINK,
            APP_PORTS: ports.join(" "),
            APP_UNIT_TEMPLATE,
            APP_SOCKET_DIR,
            NGINX_UPSTREAM_FILE,
            UPSTREAM_CONF: renderUpstream(ports),
            DEFAULT_HEALTH_PATH,
            READY_TIMEOUT_SECONDS,
            CRASH_LOOP_RESTARTS,
            DRAIN_TIMEOUT_SECONDS,
            UPSTREAM_FAIL_TIMEOUT_SECONDS,
        },
        body: scriptBody("webstack-activate"),
    });
}

/** `webstack-rollback`: activate the previously deployed release. */
export function renderRollbackCommand(): string {
    return renderCommand({
        description: "webstack-rollback: return to the previously deployed release.",
        settings: { PREVIOUS_LINK, ACTIVATE_COMMAND },
        body: scriptBody("webstack-rollback"),
    });
}

/** Maintenance mode's switch (maintenance-switch.sh) and what it reads: the maintenance step and webstack-maintenance share it. */
export const MAINTENANCE_SWITCH = {
    settings: {
        MAINTENANCE_DIR,
        MAINTENANCE_PAGE_FILE: MAINTENANCE_FILES.page,
        MAINTENANCE_ANSWER_FILE: MAINTENANCE_FILES.answer,
        MAINTENANCE_RENDERER,
        DEFAULT_MAINTENANCE_MESSAGE,
        MAX_MAINTENANCE_MESSAGE_LENGTH,
    },
    body: scriptBody("maintenance-switch"),
} as const;

/** `webstack-maintenance on [--message TEXT] | off | status`: the site's maintenance mode, which `allowedCidrs` pass. */
export function renderMaintenanceCommand(allowedCidrs: readonly string[]): string {
    return renderCommand({
        description: "webstack-maintenance: answer the site's visitors with 503 and a message while the operators work.",
        settings: { ...MAINTENANCE_SWITCH.settings, MAINTENANCE_ALLOWED_CIDRS: allowedCidrs.join(" ") },
        body: `${MAINTENANCE_SWITCH.body}\n${scriptBody("webstack-maintenance")}`,
    });
}

/** `webstack-backup`: one gzip dump of the app's database; the oldest beyond the kept number are removed. */
export function renderBackupCommand(): string {
    return renderCommand({
        description: "webstack-backup: dump the app's database.",
        settings: { BACKUP_DIR, APP_DATABASE, BACKUPS_KEPT },
        body: scriptBody("webstack-backup"),
    });
}

/** Where the backups are, on the server and in the bucket, and how the AWS CLI reaches the bucket: what shipping and restoring share. */
const BACKUP_STORAGE_SETTINGS = {
    APP_DATABASE,
    BACKUP_DIR,
    BACKUP_STATE_DIR,
    BACKUP_BUCKET_ENV_FILE,
    MARIADB_DATA_DIR,
    SYSTEM_CA_BUNDLE,
    AWS_CLI_CONFIG_FILE,
};

/** `webstack-ship-backups [--new-timeline]`: the closed binary logs and the dumps the backup bucket lacks, sent to it; a new timeline begun. */
export function renderShipBackupsCommand(): string {
    return renderCommand({
        description: "webstack-ship-backups: send the backup bucket the binary logs and dumps it lacks.",
        settings: { ...BACKUP_STORAGE_SETTINGS, BACKUP_COMMAND },
        body: scriptBody("webstack-ship-backups"),
    });
}

/** `webstack-report-metrics`: the backups' ages, the root disk's use and how long a reboot has been pending, sent to CloudWatch for the alarms. */
export function renderReportMetricsCommand(): string {
    return renderCommand({
        description: "webstack-report-metrics: report the backups' health, the disk's use and a pending reboot to CloudWatch.",
        settings: {
            ...BACKUP_STORAGE_SETTINGS,
            METRICS_NAMESPACE: SERVER_METRICS.namespace,
            METRICS_DIMENSION: SERVER_METRICS.dimension,
            SECONDS_SINCE_VERIFIED_RESTORE: SERVER_METRICS.secondsSinceVerifiedRestore,
            SECONDS_SINCE_BACKUPS_SHIPPED: SERVER_METRICS.secondsSinceBackupsShipped,
            ROOT_DISK_USED_PERCENT: SERVER_METRICS.rootDiskUsedPercent,
            SECONDS_REBOOT_PENDING: SERVER_METRICS.secondsRebootPending,
            REBOOT_REQUIRED_FILE,
        },
        body: scriptBody("webstack-report-metrics"),
    });
}

/**
 * `webstack-restore [DUMP] | --until TIME | --recover | --verify`: the newest (or the named) dump, or
 * the newest before TIME with the binary logs replayed up to it, loaded beside the live database and
 * swapped in with one atomic RENAME TABLE; the tables it replaces are kept aside, and a new backup
 * timeline begins. `--verify` loads the bucket's newest copy into a scratch database and swaps nothing.
 */
export function renderRestoreCommand(): string {
    return renderCommand({
        description: "webstack-restore: restore the app's database from a dump while the site serves.",
        settings: {
            ...BACKUP_STORAGE_SETTINGS,
            BACKUP_COMMAND,
            RESTORE_COMMAND,
            SHIP_BACKUPS_COMMAND,
            CURRENT_LINK,
            ...MIGRATION_SETTINGS,
        },
        body: scriptBody("webstack-restore"),
    });
}

/** certbot runs its deploy hooks after a renewal: nginx must load the new certificate. */
export function renderCertbotDeployHook(): string {
    return renderCommand({ description: "certbot deploy hook: load the renewed certificate.", body: "reload_nginx" });
}
