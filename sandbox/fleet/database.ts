import { APP_DATABASE, APP_USER } from "../../provisioning/layout";
import { shellQuote } from "../../provisioning/script";

/**
 * The fleet sandbox's stand-in for RDS: MariaDB on a server of its own, reached over TLS only (with a
 * certificate for its name from the sandbox's CA), with the app's database and a master user whose
 * password only Secrets Manager holds, with RDS's master privileges: the app servers
 * make the app's own user with them.
 */

/** What RDS grants its MariaDB master user (on every database, with the grant option). */
export const RDS_MASTER_PRIVILEGES = [
    "SELECT",
    "INSERT",
    "UPDATE",
    "DELETE",
    "CREATE",
    "DROP",
    "RELOAD",
    "PROCESS",
    "REFERENCES",
    "INDEX",
    "ALTER",
    "SHOW DATABASES",
    "CREATE TEMPORARY TABLES",
    "LOCK TABLES",
    "EXECUTE",
    "REPLICATION SLAVE",
    "BINLOG MONITOR",
    "CREATE VIEW",
    "SHOW VIEW",
    "CREATE ROUTINE",
    "ALTER ROUTINE",
    "CREATE USER",
    "EVENT",
    "TRIGGER",
] as const;

const CONFIG_FILE = "/etc/mysql/mariadb.conf.d/90-webstack-sandbox-rds.cnf";
const CERTIFICATE_DIR = "/etc/mysql/sandbox-tls";

/** MariaDB's settings: every address, TLS required, the certificate and key from {@link CERTIFICATE_DIR}. */
export function renderDatabaseServerConfig(): string {
    return [
        "# Managed by the webstack fleet sandbox: the stand-in for RDS.",
        "[mariadbd]",
        "bind-address = 0.0.0.0",
        "require_secure_transport = ON",
        `ssl_cert = ${CERTIFICATE_DIR}/server.pem`,
        `ssl_key = ${CERTIFICATE_DIR}/server.key`,
        "",
    ].join("\n");
}

/** What the stand-in's image has installed (its image layer). */
export const DATABASE_PACKAGES = ["mariadb-server"] as const;

/** The root script that makes the stand-in on a server with {@link DATABASE_PACKAGES}: MariaDB, its TLS, the app's database and the master user with `password`. Nothing it prints holds the password. */
export function databaseSetupScript(options: { certificatePem: string; keyPem: string; password: string }): string {
    const statements = [
        `CREATE DATABASE IF NOT EXISTS ${APP_DATABASE} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;`,
        `CREATE USER IF NOT EXISTS '${APP_USER}'@'%' IDENTIFIED BY '${options.password.replace(/['\\]/g, (character) => `\\${character}`)}';`,
        `GRANT ${RDS_MASTER_PRIVILEGES.join(", ")} ON *.* TO '${APP_USER}'@'%' WITH GRANT OPTION;`,
    ].join("\n");
    return [
        "set -euo pipefail",
        `install -d -m 750 -o root -g mysql ${CERTIFICATE_DIR}`,
        `printf '%s' ${shellQuote(options.certificatePem)} > ${CERTIFICATE_DIR}/server.pem`,
        `printf '%s' ${shellQuote(options.keyPem)} > ${CERTIFICATE_DIR}/server.key`,
        `chgrp mysql ${CERTIFICATE_DIR}/server.pem ${CERTIFICATE_DIR}/server.key && chmod 640 ${CERTIFICATE_DIR}/server.pem ${CERTIFICATE_DIR}/server.key`,
        `printf '%s' ${shellQuote(renderDatabaseServerConfig())} > ${CONFIG_FILE}`,
        "systemctl enable --quiet mariadb",
        "systemctl restart mariadb",
        `mariadb --protocol=socket --skip-ssl <<'SQL'\n${statements}\nSQL`,
        "",
    ].join("\n");
}
