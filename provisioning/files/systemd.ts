import { readFileSync } from "node:fs";
import { basename, join } from "node:path";
import {
    APP_DB_POOL_SIZE,
    APP_DB_QUEUE_LIMIT,
    APP_HEAP_MIB,
    APP_MEMORY_HIGH_MIB,
    APP_MEMORY_MAX_MIB,
    APP_OOM_SCORE_ADJUST,
    APP_OPEN_FILES,
    DATABASE_OOM_SCORE_ADJUST,
    JOURNAL_MAX_DISK_MIB,
    JOURNAL_MAX_RUNTIME_MIB,
    SERVICE_OOM_SCORE_ADJUST,
} from "../capacity";
import {
    APP_DATABASE_ENV_FILE,
    APP_ENVIRONMENT_FILE,
    APP_SOCKET_DIR,
    APP_USER,
    appSocketPath,
    BACKUP_COMMAND,
    BACKUP_DIR,
    BACKUP_STATE_DIR,
    SHIP_BACKUPS_COMMAND,
    REPORT_METRICS_COMMAND,
    RESTORE_COMMAND,
    CURRENT_LINK,
    MIGRATOR_ENV_FILE,
    RELEASE_ENV_NAME,
    UNIX_SOCKET_PRELOAD,
    WATCHDOG_PRELOAD,
} from "../layout";

/** systemd units: the app's instance template and the nightly backup. */

/**
 * What a network service that needs no privileges may do: nothing outside its own process, no
 * writes outside the paths a unit names, loopback and unix sockets only through the address families.
 * MemoryDenyWriteExecute is left out: V8's JIT needs writable executable memory.
 */
export const UNIT_HARDENING = [
    "NoNewPrivileges=yes",
    "ProtectSystem=strict",
    "ProtectHome=yes",
    "PrivateTmp=yes",
    "PrivateDevices=yes",
    "ProtectKernelTunables=yes",
    "ProtectKernelModules=yes",
    "ProtectKernelLogs=yes",
    "ProtectControlGroups=yes",
    "ProtectClock=yes",
    "ProtectHostname=yes",
    "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
    "RestrictNamespaces=yes",
    "RestrictRealtime=yes",
    "RestrictSUIDSGID=yes",
    "LockPersonality=yes",
    "SystemCallArchitectures=native",
    "SystemCallFilter=@system-service",
    // A call outside the filter fails with EPERM instead of killing the process: Node's libuv probes
    // io_uring at start and falls back when it is refused.
    "SystemCallErrorNumber=EPERM",
    "CapabilityBoundingSet=",
    "UMask=0077",
] as const;

/** What library.sh's run_migrations reads: every script that migrates (deploy, restore) carries these. */
export const MIGRATION_SETTINGS = {
    APP_USER,
    APP_DATABASE_ENV_FILE,
    MIGRATOR_ENV_FILE,
    MIGRATION_HARDENING: UNIT_HARDENING.join("\n"),
} as const;

/**
 * How long an instance's event loop may go without feeding systemd's watchdog before systemd takes
 * it for hung, kills it and starts it again. The app feeds it three times as often; a loop blocked
 * for seconds serves nobody anyway.
 */
export const APP_WATCHDOG_SECONDS = 5;

/**
 * How long a stopping instance has to finish the requests it holds before systemd kills it: the
 * app's drain, which a load balancer's deregistration delay matches (the ha topology).
 */
export const APP_STOP_TIMEOUT_SECONDS = 20;

/** The script every instance loads before the app from `preloadPath` ({@link WATCHDOG_PRELOAD}, {@link UNIX_SOCKET_PRELOAD}): the file of that name in provisioning/files. */
export function renderPreload(preloadPath: typeof WATCHDOG_PRELOAD | typeof UNIX_SOCKET_PRELOAD): string {
    return readFileSync(join(__dirname, basename(preloadPath)), "utf8");
}

/**
 * The app instance template: `webstack-app@3001.service` listens on 127.0.0.1:3001 and, through its
 * unix-socket preload, on {@link appSocketPath}(3001), where nginx reaches it. Everything is read
 * through the `current` symlink when an instance starts, so a restart picks up the release that
 * `current` points to, with its own RELEASE_ID. The watchdog preload pings systemd through a
 * systemd-notify child (hence NotifyAccess=all); a hung instance is killed outright, since it would
 * not act on a gentler signal. The instances share one runtime directory, kept while any of them
 * stops, so that stopping one never removes another's socket.
 */
export function renderAppUnit(): string {
    return [
        "[Unit]",
        `Description=webstack app instance on 127.0.0.1:%i and ${appSocketPath("%i")}`,
        "After=network.target mariadb.service",
        // Units stop in the reverse of their start order, so nginx stops first: a server shutting
        // down refuses new connections (a load balancer sends them elsewhere) while the requests
        // nginx holds still reach their instance.
        "Before=nginx.service",
        "Wants=mariadb.service",
        "StartLimitIntervalSec=0",
        "",
        "[Service]",
        "Type=simple",
        "NotifyAccess=all",
        `WatchdogSec=${APP_WATCHDOG_SECONDS}`,
        "WatchdogSignal=SIGKILL",
        `User=${APP_USER}`,
        `Group=${APP_USER}`,
        `Environment=NODE_ENV=production HOST=127.0.0.1 PORT=%i WEBSTACK_APP_SOCKET=${appSocketPath("%i")} DB_POOL_SIZE=${APP_DB_POOL_SIZE} DB_QUEUE_LIMIT=${APP_DB_QUEUE_LIMIT} NODE_OPTIONS=--max-old-space-size=${APP_HEAP_MIB}`,
        // Optional: a server provisioned before the app had an environment of its own runs without one until that step.
        `EnvironmentFile=-${APP_ENVIRONMENT_FILE}`,
        `EnvironmentFile=${APP_DATABASE_ENV_FILE}`,
        `EnvironmentFile=${CURRENT_LINK}/${RELEASE_ENV_NAME}`,
        `WorkingDirectory=${CURRENT_LINK}`,
        `RuntimeDirectory=${basename(APP_SOCKET_DIR)}`,
        // Open to nginx's user (and, like the loopback port, to any local process).
        "RuntimeDirectoryMode=0755",
        "RuntimeDirectoryPreserve=yes",
        `ExecStart=/usr/bin/node --require ${WATCHDOG_PRELOAD} --require ${UNIX_SOCKET_PRELOAD} ${CURRENT_LINK}/server.js`,
        "Restart=always",
        "RestartSec=1",
        `TimeoutStopSec=${APP_STOP_TIMEOUT_SECONDS}`,
        `LimitNOFILE=${APP_OPEN_FILES}`,
        `MemoryHigh=${APP_MEMORY_HIGH_MIB}M`,
        `MemoryMax=${APP_MEMORY_MAX_MIB}M`,
        `OOMScoreAdjust=${APP_OOM_SCORE_ADJUST}`,
        ...UNIT_HARDENING,
        "",
        "[Install]",
        "WantedBy=multi-user.target",
        "",
    ].join("\n");
}

/** A drop-in for Debian's mariadb.service: the kernel's out-of-memory killer takes the database last. */
export function renderDatabaseUnitDropIn(): string {
    return ["# Managed by webstack.", "[Service]", `OOMScoreAdjust=${DATABASE_OOM_SCORE_ADJUST}`, ""].join("\n");
}

/** A drop-in for Debian's nginx.service: started again when it dies, and taken by the OOM killer before MariaDB. */
export function renderNginxUnitDropIn(): string {
    return [
        "# Managed by webstack.",
        "[Service]",
        "Restart=on-failure",
        "RestartSec=1",
        `OOMScoreAdjust=${SERVICE_OOM_SCORE_ADJUST}`,
        "",
    ].join("\n");
}

/** A drop-in for systemd-journald.service (which restarts by itself): taken by the OOM killer before MariaDB. */
export function renderJournaldUnitDropIn(): string {
    return ["# Managed by webstack.", "[Service]", `OOMScoreAdjust=${SERVICE_OOM_SCORE_ADJUST}`, ""].join("\n");
}

/** journald bounded on disk and in memory; what it drops first is the oldest. */
export function renderJournaldConfig(): string {
    return [
        "# Managed by webstack.",
        "[Journal]",
        `SystemMaxUse=${JOURNAL_MAX_DISK_MIB}M`,
        `RuntimeMaxUse=${JOURNAL_MAX_RUNTIME_MIB}M`,
        "",
    ].join("\n");
}

/** The nightly dump, as root (MariaDB's root logs in through the unix socket), writing only its directory. */
export function renderBackupService(): string {
    return [
        "[Unit]",
        "Description=webstack database backup",
        "After=mariadb.service",
        "Requires=mariadb.service",
        "",
        "[Service]",
        "Type=oneshot",
        `ExecStart=${BACKUP_COMMAND}`,
        `ReadWritePaths=${BACKUP_DIR}`,
        ...UNIT_HARDENING,
        "",
    ].join("\n");
}

/** A timer unit: `description`, fired by `schedule` (its [Timer] lines), started with the system. */
function renderTimer(description: string, schedule: readonly string[]): string {
    return ["[Unit]", `Description=${description}`, "", "[Timer]", ...schedule, "", "[Install]", "WantedBy=timers.target", ""].join("\n");
}

/** A night missed while the server was off runs at the next boot. */
const NIGHTLY = ["RandomizedDelaySec=30min", "Persistent=true"] as const;

/** Nightly, spread over half an hour. */
export function renderBackupTimer(): string {
    return renderTimer("nightly webstack database backup", ["OnCalendar=*-*-* 03:15:00", ...NIGHTLY]);
}

/**
 * A oneshot of the backups' that reaches AWS as the instance role, writing only the backups' state
 * (where the AWS CLI, which looks under HOME, finds its home too).
 */
function renderAwsBackupService(settings: {
    readonly description: string;
    readonly command: string;
    readonly needsDatabase: boolean;
    readonly extra?: readonly string[];
}): string {
    const database = settings.needsDatabase ? ["Requires=mariadb.service"] : [];
    return [
        "[Unit]",
        `Description=${settings.description}`,
        `After=${settings.needsDatabase ? "mariadb.service " : ""}network-online.target`,
        "Wants=network-online.target",
        ...database,
        "",
        "[Service]",
        "Type=oneshot",
        `ExecStart=${settings.command}`,
        `ReadWritePaths=${BACKUP_STATE_DIR}`,
        `Environment=HOME=${BACKUP_STATE_DIR}`,
        ...UNIT_HARDENING,
        ...(settings.extra ?? []),
        "",
    ].join("\n");
}

/** Ships what the backup bucket lacks, as root able to read MariaDB's binary logs. */
export function renderShipBackupsService(): string {
    return renderAwsBackupService({
        description: "ship webstack backups to the backup bucket",
        command: SHIP_BACKUPS_COMMAND,
        needsDatabase: true,
        // Read, not write, MariaDB's binary logs, which only its own user may read.
        extra: ["CapabilityBoundingSet=CAP_DAC_READ_SEARCH"],
    });
}

/**
 * Every half minute: a write waits at most that long for its binary log to close, plus the upload,
 * so that no write stays only on the server for a minute.
 */
export function renderShipBackupsTimer(): string {
    return renderTimer("ship webstack backups every half minute", ["OnCalendar=*-*-* *:*:00/30", "AccuracySec=1s"]);
}

/** Restores the bucket's newest backup into a scratch database, checks it and drops it: the live database is never touched. */
export function renderVerifyBackupsService(): string {
    return renderAwsBackupService({
        description: "prove that the backup bucket's newest backup restores",
        command: `${RESTORE_COMMAND} --verify`,
        needsDatabase: true,
    });
}

/** Nightly, an hour after the dump, so that the night's dump is the one proven. */
export function renderVerifyBackupsTimer(): string {
    return renderTimer("nightly proof that the webstack backups restore", ["OnCalendar=*-*-* 04:15:00", ...NIGHTLY]);
}

/** Reports the backups' age and the disk's use; it needs no database, so that it reports while MariaDB is down too. */
export function renderReportMetricsService(): string {
    return renderAwsBackupService({
        description: "report the webstack backups' health to CloudWatch",
        command: REPORT_METRICS_COMMAND,
        needsDatabase: false,
    });
}

/** Every minute: the alarms look at five-minute windows, so one lost report changes nothing. */
export function renderReportMetricsTimer(): string {
    return renderTimer("report the webstack backups' health every minute", ["OnCalendar=minutely"]);
}
