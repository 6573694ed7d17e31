import { cidrFamily } from "../formats";
import {
    ACTIVATE_COMMAND,
    APP_DATABASE_ENV_FILE,
    APP_DATABASE,
    CURRENT_LINK,
    DATABASE_CA_FILE,
    DATABASE_CREDENTIALS_COMMAND,
    IMDS_ROLE_WAIT_SECONDS,
    MIGRATOR_ENV_FILE,
} from "../layout";
import { APP_RUNTIME_PRIVILEGES } from "./mariadb";
import type { FleetDatabase } from "../plan";
import { renderCommand, scriptBody } from "../script";

/**
 * What a fleet's server (the ha topology) has that a single server does not: the shared database's
 * credentials, read from Secrets Manager through the instance role, and a load balancer in front.
 */

/** Where a fleet's server reaches AWS: AWS's own endpoints, or a test's stand-ins. */
export interface AwsEndpoints {
    readonly imds: string;
    readonly secretsManager: string;
}

/** AWS's own endpoints in a region, as an EC2 instance reaches them. */
export function awsServiceEndpoints(region: string): AwsEndpoints {
    return { imds: "http://169.254.169.254", secretsManager: `https://secretsmanager.${region}.amazonaws.com` };
}

/** The paths the credentials command works with; the server's own unless a test says otherwise. */
export interface CredentialsPaths {
    readonly appDatabaseEnvFile: string;
    readonly migratorEnvFile: string;
    readonly caFile: string;
    readonly currentLink: string;
    readonly activateCommand: string;
    /** MariaDB's command-line client, which makes the app's user as the master user. */
    readonly databaseClient: string;
}

/**
 * How often, and how far apart, the credentials command asks a database that does not answer. With
 * the client's 10 s connect timeout the worst case, about 70 s, stays within systemd's 90 s for an
 * instance's start, which runs the command first.
 */
const DATABASE_CONNECT_ATTEMPTS = 6;
const DATABASE_RETRY_SECONDS = 2;

const SERVER_CREDENTIALS_PATHS: CredentialsPaths = {
    appDatabaseEnvFile: APP_DATABASE_ENV_FILE,
    migratorEnvFile: MIGRATOR_ENV_FILE,
    caFile: DATABASE_CA_FILE,
    currentLink: CURRENT_LINK,
    activateCommand: ACTIVATE_COMMAND,
    databaseClient: "mariadb",
};

/**
 * `webstack-database-credentials [--restart-if-changed]`: the app's database settings with its own
 * user's name and password (a secret of the stack's; the user made in the database with
 * {@link APP_RUNTIME_PRIVILEGES}), and the migrations' with the master user's, which RDS keeps in
 * Secrets Manager and rotates.
 */
export function renderDatabaseCredentialsCommand(
    region: string,
    database: FleetDatabase,
    endpoints: AwsEndpoints = awsServiceEndpoints(region),
    paths: CredentialsPaths = SERVER_CREDENTIALS_PATHS,
): string {
    if (database.name !== APP_DATABASE) {
        throw new Error(`The fleet's database is named "${database.name}"; the app's database is "${APP_DATABASE}" on every topology.`);
    }
    return renderCommand({
        description: "webstack-database-credentials: the shared database's address and credentials, for the app.",
        settings: {
            REGION: region,
            IMDS_ENDPOINT: endpoints.imds,
            IMDS_ROLE_WAIT_SECONDS,
            SECRETS_MANAGER_ENDPOINT: endpoints.secretsManager,
            APP_SECRET_ARN: database.appSecretArn,
            MASTER_SECRET_ARN: database.masterSecretArn,
            APP_PRIVILEGES: APP_RUNTIME_PRIVILEGES.join(", "),
            DATABASE_CLIENT: paths.databaseClient,
            DATABASE_CONNECT_ATTEMPTS,
            DATABASE_RETRY_SECONDS,
            DB_HOST: database.host,
            DB_PORT: database.port,
            DB_NAME: database.name,
            DB_TLS_CA_FILE: paths.caFile,
            APP_DATABASE_ENV_FILE: paths.appDatabaseEnvFile,
            MIGRATOR_ENV_FILE: paths.migratorEnvFile,
            CURRENT_LINK: paths.currentLink,
            ACTIVATE_COMMAND: paths.activateCommand,
        },
        body: [scriptBody("aws"), scriptBody("webstack-database-credentials")].join("\n"),
    });
}

/** The database's CA bundle as the fleet input gives it, when it is PEM certificates; otherwise an error that says what it should be. */
export function checkedCaBundle(pem: string): string {
    if (!pem.trimStart().startsWith("-----BEGIN CERTIFICATE-----") || !pem.trimEnd().endsWith("-----END CERTIFICATE-----")) {
        throw new Error(
            "database.trustedCaPem is not a PEM bundle of certificates; give the CA bundle of the database server's certificate (for RDS, AWS's RDS CA bundle).",
        );
    }
    return `${pem.trim()}\n`;
}

/** Every app instance fetches the credentials as root before it starts, whatever started it. */
export function renderAppUnitFleetDropIn(): string {
    return [
        "# Managed by webstack: the shared database's credentials, fetched before every start.",
        "[Service]",
        `ExecStartPre=+${DATABASE_CREDENTIALS_COMMAND}`,
        "",
    ].join("\n");
}

/** How often a fleet's server asks Secrets Manager whether RDS rotated the password. */
export const CREDENTIALS_REFRESH_SECONDS = 60;

export function renderCredentialsRefreshService(): string {
    return [
        "[Unit]",
        "Description=webstack: pick up a rotated database password",
        "",
        "[Service]",
        "Type=oneshot",
        `ExecStart=${DATABASE_CREDENTIALS_COMMAND} --restart-if-changed`,
        "",
    ].join("\n");
}

export function renderCredentialsRefreshTimer(): string {
    return [
        "[Unit]",
        "Description=webstack: check for a rotated database password every minute",
        "",
        "[Timer]",
        `OnBootSec=${CREDENTIALS_REFRESH_SECONDS}s`,
        `OnUnitActiveSec=${CREDENTIALS_REFRESH_SECONDS}s`,
        "AccuracySec=5s",
        "",
        "[Install]",
        "WantedBy=timers.target",
        "",
    ].join("\n");
}

/**
 * nginx's view of the load balancer: a connection from its blocks carries the client's address in
 * X-Forwarded-For (the load balancer appends the peer it saw), which becomes $remote_addr for the
 * access log and the app. A request from anywhere else keeps its own address.
 */
export function renderLoadBalancerTrust(cidrs: readonly string[]): string {
    const invalid = cidrs.filter((cidr) => cidrFamily(cidr) === undefined);
    if (cidrs.length === 0 || invalid.length > 0) {
        throw new Error(
            `loadBalancerCidrs is ${JSON.stringify(cidrs)}; expected the VPC's address blocks, at least one, each a CIDR block such as 172.31.0.0/16.`,
        );
    }
    return [
        "# Managed by webstack: the load balancer's addresses, whose X-Forwarded-For names the client.",
        ...cidrs.map((cidr) => `set_real_ip_from ${cidr};`),
        "real_ip_header X-Forwarded-For;",
        "real_ip_recursive on;",
        "",
    ].join("\n");
}
