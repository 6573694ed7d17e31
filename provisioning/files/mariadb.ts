import { MARIADB_MAX_CONNECTIONS } from "../capacity";
import { APP_DATABASE, BINLOG_BASENAME, BINLOG_DAYS_KEPT } from "../layout";

/** MariaDB: the server's drop-in configuration and what the app's database user may do. */

/**
 * Loopback only (port 3306 is never reachable from outside), no file import from clients, as many
 * connections as the app instances' pools need ({@link MARIADB_MAX_CONNECTIONS}), and row-based binary
 * logs, synced at every commit, from which a restore replays the writes since a dump to any second.
 * A server that follows another while it replaces it (webstack-replica) logs what it replays too, so
 * that the old server can follow it back, and replays the app's database alone, never the other
 * server's accounts. Its server id is its own, drawn once by the database step
 * (MARIADB_SERVER_ID_FILE).
 */
export function renderMariadbConfig(): string {
    return [
        "# Managed by webstack.",
        "[mysqld]",
        "bind-address = 127.0.0.1",
        "skip-name-resolve",
        "local-infile = 0",
        `max_connections = ${MARIADB_MAX_CONNECTIONS}`,
        `log_bin = ${BINLOG_BASENAME}`,
        "binlog_format = ROW",
        "sync_binlog = 1",
        `binlog_expire_logs_seconds = ${BINLOG_DAYS_KEPT * 86400}`,
        "log_slave_updates = ON",
        `replicate_do_db = ${APP_DATABASE}`,
        "",
    ].join("\n");
}

/**
 * The app user's privileges on its own database and nowhere else: queries, and the schema changes
 * that migrations make (create and alter tables and indexes). No DROP, no GRANT, no FILE.
 */
export const APP_DATABASE_PRIVILEGES = ["ALTER", "CREATE", "DELETE", "INDEX", "INSERT", "REFERENCES", "SELECT", "UPDATE"] as const;

/**
 * A fleet's app user's privileges on its own database: queries alone, since RDS's master user runs
 * the migrations there. The app needs no more of {@link APP_DATABASE_PRIVILEGES} at run time.
 */
export const APP_RUNTIME_PRIVILEGES = [
    "DELETE",
    "INSERT",
    "SELECT",
    "UPDATE",
] as const satisfies readonly (typeof APP_DATABASE_PRIVILEGES)[number][];
