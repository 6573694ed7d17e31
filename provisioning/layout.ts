import type { IntegerBounds } from "./settingChecks";
import { wwwHostName } from "./site";

/**
 * Where things live on the server. Renderers, step scripts and installed commands all take their
 * paths from here, so that a path is spelled once.
 */

/** The app's system user and group; it owns nothing in the release tree, which stays root's. */
export const APP_USER = "webstack";
/** The app's database, and on a single server its database user (on a fleet, RDS's master user). */
export const APP_DATABASE = "webstack";
/**
 * The database user a fleet's app connects as, with {@link APP_RUNTIME_PRIVILEGES} alone; RDS's
 * master user ({@link APP_USER}) runs the migrations.
 */
export const FLEET_APP_DATABASE_USER = "webstack_app";

export const APP_ROOT = "/opt/webstack";
/** One directory per release id, unpacked once and never changed. */
export const RELEASES_DIR = `${APP_ROOT}/releases`;
/** Symlink to the release that the instances run; switched atomically. */
export const CURRENT_LINK = `${APP_ROOT}/current`;
/** Symlink to the release that ran before the current one: what `webstack-rollback` returns to. */
export const PREVIOUS_LINK = `${APP_ROOT}/previous`;
/**
 * Symlink to the release whose static files (public/) nginx serves: it follows `current` once an
 * instance of the new release answers, so that a release that never gets ready serves no file.
 */
export const SERVING_LINK = `${APP_ROOT}/serving`;
/** Written into every unpacked release: `RELEASE_ID=<id>`, read by the unit through `current`. */
export const RELEASE_ENV_NAME = "release.env";
/** How many releases stay on disk (the current and previous ones are never deleted). */
export const RELEASES_KEPT = 5;

/**
 * What the steps' chatty commands (apt) print, kept on the server: an executor keeps a step's output,
 * and Pulumi's keeps it in the stack's state.
 */
export const PROVISIONING_LOG_FILE = "/var/log/webstack-provisioning.log";
/** How long a fleet's server asks the metadata service for its role while the instance profile is being attached (aws.sh). */
export const IMDS_ROLE_WAIT_SECONDS = 90;
/** One file per action (a reload) that a step's change made due and that has not succeeded yet (action_pending in the script library). */
export const PENDING_ACTIONS_DIR = "/var/lib/webstack/pending";
/**
 * What each plan step records about itself (record_owned_files in the script library): the files it
 * wrote, with their hashes, and the last repair the Pulumi executor's drift check asked of it.
 */
export const STEP_RECORDS_DIR = "/var/lib/webstack/steps";
/** Touched whenever a step fetches apt's package lists, so that the next step of the same run need not fetch them again. */
export const APT_LISTS_FETCHED_STAMP = "/var/lib/webstack/apt-lists-fetched";

/** Root-only: the app's database settings (DB_*), with the password that the server generated or fetched. */
export const APP_DATABASE_ENV_FILE = "/etc/webstack/app.env";
/**
 * Root-only: the database user the migrations run as, read after {@link APP_DATABASE_ENV_FILE} by the
 * migrator alone. A fleet's server has it (RDS's master user); a single server's migrations run as
 * the app's user, and it has none.
 */
export const MIGRATOR_ENV_FILE = "/etc/webstack/migrator.env";
/** Root-only: the app's own environment, as the program gives it (WebServer's appEnvironment), secrets among them. */
export const APP_ENVIRONMENT_FILE = "/etc/webstack/app-environment.env";
export const DB_SOCKET = "/run/mysqld/mysqld.sock";
export const MARIADB_CONFIG_FILE = "/etc/mysql/mariadb.conf.d/60-webstack.cnf";
export const MARIADB_UNIT_DROP_IN = "/etc/systemd/system/mariadb.service.d/60-webstack.conf";
/** This server's MariaDB server id, drawn once by the database step (files/mariadb.ts). */
export const MARIADB_SERVER_ID_FILE = "/etc/mysql/mariadb.conf.d/61-webstack-server-id.cnf";
export const JOURNALD_CONFIG_FILE = "/etc/systemd/journald.conf.d/60-webstack.conf";
export const JOURNALD_UNIT_DROP_IN = "/etc/systemd/system/systemd-journald.service.d/60-webstack.conf";
export const NGINX_UNIT_DROP_IN = "/etc/systemd/system/nginx.service.d/60-webstack.conf";
/** nginx's one access log, in a directory of its own so that its rotation is ours, not Debian's daily one. */
export const ACCESS_LOG_FILE = "/var/log/webstack/access.log";
export const ACCESS_LOG_ROTATION_FILE = "/etc/logrotate.d/webstack";
export const LOGROTATE_TIMER_DROP_IN = "/etc/systemd/system/logrotate.timer.d/60-webstack.conf";

export const APP_UNIT_TEMPLATE = "webstack-app@.service";
/**
 * Loaded into every app instance before the app (`node --require`), each from the file of the same
 * name in provisioning/files: one feeds systemd's watchdog from the event loop, one opens the
 * instance's unix socket.
 */
export const WATCHDOG_PRELOAD = "/usr/local/lib/webstack/watchdog.cjs";
export const UNIX_SOCKET_PRELOAD = "/usr/local/lib/webstack/unix-socket.cjs";
/** The app instance unit that listens on a port. */
export function appInstanceUnit(port: number): string {
    return `webstack-app@${port}.service`;
}
/** systemd's runtime directory of the app instances (RuntimeDirectory=), where their unix sockets live. */
export const APP_SOCKET_DIR = "/run/webstack-app";
/** The unix socket through which nginx reaches the instance on `port`: the same server as 127.0.0.1:`port`. */
export function appSocketPath(port: number | "%i"): string {
    return `${APP_SOCKET_DIR}/${port}.sock`;
}

/** The path an app answers with 200 once it can serve, unless its release names another. */
export const DEFAULT_HEALTH_PATH = "/healthz";

/** How many app instances a server runs unless told otherwise: two, so that a deploy restarts one while the other serves. */
export const DEFAULT_APP_INSTANCES = 2;
/** The most app instances a server runs; ports are 3001..3008. */
export const MAX_APP_INSTANCES = 8;
/** The instance counts `appInstances` takes. */
export const APP_INSTANCE_BOUNDS: IntegerBounds = { min: 1, max: MAX_APP_INSTANCES, example: DEFAULT_APP_INSTANCES };
const FIRST_APP_PORT = 3001;

/** The loopback ports of the first `count` app instances: 3001, 3002, ... */
export function appPorts(count: number): number[] {
    return Array.from({ length: count }, (_, index) => FIRST_APP_PORT + index);
}

export const ACTIVATE_COMMAND = "/usr/local/sbin/webstack-activate";
export const MAINTENANCE_COMMAND = "/usr/local/sbin/webstack-maintenance";
/** The maintenance page's renderer (provisioning/files/maintenance-page.cjs), which webstack-maintenance runs with node. */
export const MAINTENANCE_RENDERER = "/usr/local/lib/webstack/maintenance-page.cjs";
/** Holds the maintenance page and the API's maintenance answer while the site is in maintenance, and nothing otherwise. */
export const MAINTENANCE_DIR = "/var/www/webstack-maintenance";
export const ROLLBACK_COMMAND = "/usr/local/sbin/webstack-rollback";
export const BACKUP_COMMAND = "/usr/local/sbin/webstack-backup";
export const RESTORE_COMMAND = "/usr/local/sbin/webstack-restore";

export const NGINX_CONF_FILE = "/etc/nginx/nginx.conf";
export const NGINX_SITE_FILE = "/etc/nginx/sites-enabled/webstack.conf";
export const NGINX_DEFAULT_SITE = "/etc/nginx/sites-enabled/default";
/** The app's upstream block, in its own file so that a deploy can take one instance out at a time. */
export const NGINX_UPSTREAM_FILE = "/etc/nginx/webstack/upstream.conf";
export const NGINX_UPSTREAM_NAME = "webstack_app";
/** nginx's micro-cache of the API's anonymous answers, on disk (the page cache keeps it in memory while there is room). */
export const NGINX_API_CACHE_DIR = "/var/cache/nginx/webstack-api";

/** Served on port 80 at /.well-known/acme-challenge/ for certbot's webroot method. */
export const ACME_WEBROOT = "/var/www/acme";
export const CERTBOT_DEPLOY_HOOK = "/etc/letsencrypt/renewal-hooks/deploy/webstack-reload-nginx";

/** The certificate lineage for a domain: certbot's --cert-name and the paths nginx reads. */
export function certificatePaths(domain: string): { name: string; fullchain: string; privateKey: string } {
    const name = wwwHostName(domain);
    return { name, fullchain: `/etc/letsencrypt/live/${name}/fullchain.pem`, privateKey: `/etc/letsencrypt/live/${name}/privkey.pem` };
}

export const BACKUP_DIR = "/var/backups/webstack";
export const BACKUPS_KEPT = 7;
export const BACKUP_UNIT = "webstack-backup.service";
export const BACKUP_TIMER = "webstack-backup.timer";
/** Where the backups leave the server for: the bucket, the server's prefix in it and the region, written from the plan's backupBucket input. */
export const BACKUP_BUCKET_ENV_FILE = "/etc/webstack/backup-bucket.env";
/** What the shipping keeps between runs: the server's timeline, what it has shipped, when it last succeeded. */
export const BACKUP_STATE_DIR = "/var/lib/webstack/backups";
export const SHIP_BACKUPS_COMMAND = "/usr/local/sbin/webstack-ship-backups";
export const SHIP_BACKUPS_UNIT = "webstack-ship-backups.service";
export const SHIP_BACKUPS_TIMER = "webstack-ship-backups.timer";
/** The nightly proof that the bucket's newest backup restores: `webstack-restore --verify` into a scratch database. */
export const VERIFY_BACKUPS_UNIT = "webstack-verify-backups.service";
export const VERIFY_BACKUPS_TIMER = "webstack-verify-backups.timer";
export const REPORT_METRICS_COMMAND = "/usr/local/sbin/webstack-report-metrics";
export const REPORT_METRICS_UNIT = "webstack-report-metrics.service";
export const REPORT_METRICS_TIMER = "webstack-report-metrics.timer";
/** Reboots the server in the maintenance window when an update asked for it, after a fresh backup. */
export const REBOOT_COMMAND = "/usr/local/sbin/webstack-reboot-if-required";
export const REBOOT_UNIT = "webstack-reboot.service";
export const REBOOT_TIMER = "webstack-reboot.timer";
/** Written by unattended-upgrades' kernel hook (with the packages that asked in `.pkgs`); gone after a reboot, /run being a tmpfs. */
export const REBOOT_REQUIRED_FILE = "/run/reboot-required";

/**
 * What the server reports to CloudWatch every minute, as its instance role (no agent), and the
 * alarms watch: each metric under the namespace, with the server's name (its backup prefix) as the
 * one dimension.
 */
export const SERVER_METRICS = {
    namespace: "webstack",
    dimension: "Server",
    /** Since the last `webstack-restore --verify` that succeeded (or since the server's backups began). */
    secondsSinceVerifiedRestore: "SecondsSinceVerifiedRestore",
    /** Since the last shipping run that left the bucket holding every closed binary log and dump. */
    secondsSinceBackupsShipped: "SecondsSinceBackupsShipped",
    rootDiskUsedPercent: "RootDiskUsedPercent",
    /** Since an update asked for a reboot that has not happened yet; 0 when none is pending. */
    secondsRebootPending: "SecondsRebootPending",
} as const;
/** MariaDB's binary logs: `<datadir>/<basename>.NNNNNN`, row-based, shipped to the bucket every minute. */
export const MARIADB_DATA_DIR = "/var/lib/mysql";
/** The server's own settings for the AWS CLI, which the backup commands read when it exists; the plan writes none. */
export const AWS_CLI_CONFIG_FILE = "/etc/webstack/aws-cli.conf";
/** Debian's trust store, kept current by the ca-certificates package. */
export const SYSTEM_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt";
export const BINLOG_BASENAME = "webstack-bin";
/** How many days the server keeps its own binary logs; the bucket keeps them for the retention. */
export const BINLOG_DAYS_KEPT = 3;

/** A replacement server's side of the move: it copies and follows the old server's database, then takes over (files/replication.ts). */
export const REPLICA_COMMAND = "/usr/local/sbin/webstack-replica";
/** The old server's side of the move: its writes paused and its database read-only while the last transactions reach the replacement. */
export const WRITES_COMMAND = "/usr/local/sbin/webstack-writes";
/** What the replacement's tunnel key may run on the old server: the grant of its replication user. */
export const REPLICATION_GRANT_COMMAND = "/usr/local/sbin/webstack-replication-grant";
/** Root-only: the replica's tunnel key, the old server's address and host key, and the replication password. */
export const REPLICATION_DIR = "/etc/webstack/replication";
/** A fleet's server (the ha topology): the shared database's credentials, fetched from Secrets Manager before every app instance starts. */
export const DATABASE_CREDENTIALS_COMMAND = "/usr/local/sbin/webstack-database-credentials";
/** The CA bundle the shared database's certificate chains to. */
export const DATABASE_CA_FILE = "/etc/webstack/database-ca.pem";
export const APP_UNIT_FLEET_DROP_IN = "/etc/systemd/system/webstack-app@.service.d/60-fleet.conf";
/** Fetches the credentials again every minute and restarts the instances one at a time when RDS rotated the password. */
export const CREDENTIALS_REFRESH_UNIT = "webstack-database-credentials.service";
export const CREDENTIALS_REFRESH_TIMER = "webstack-database-credentials.timer";
/** Where nginx learns which peers are the load balancer, whose X-Forwarded-For names the client. */
export const NGINX_LOAD_BALANCER_FILE = "/etc/nginx/conf.d/webstack-load-balancer.conf";

export const SSHD_HARDENING_FILE = "/etc/ssh/sshd_config.d/10-webstack.conf";
export const DISABLED_MODULES_FILE = "/etc/modprobe.d/60-webstack.conf";
export const KERNEL_SETTINGS_FILE = "/etc/sysctl.d/60-webstack.conf";
export const CORE_DUMP_LIMITS_FILE = "/etc/security/limits.d/60-webstack.conf";
export const SHELL_TIMEOUT_FILE = "/etc/profile.d/60-webstack-timeout.sh";
/** The nftables table that keeps the instance metadata service, and so the instance role's credentials, for root. */
export const METADATA_FIREWALL_FILE = "/etc/webstack/metadata-firewall.nft";
export const METADATA_FIREWALL_UNIT = "webstack-metadata-firewall.service";
export const FAIL2BAN_JAIL_FILE = "/etc/fail2ban/jail.local";
export const NEEDRESTART_CONFIG_FILE = "/etc/needrestart/conf.d/60-webstack.conf";
