/**
 * Schema migrations: `migrations/NNN_name.sql`, applied in order, each once, recorded with a
 * checksum in `schema_migrations`. A named lock serialises concurrent migrators (two servers, or a
 * deploy racing a restart), and a changed applied file stops everything: the database no longer
 * matches what the code expects.
 */
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import mysql, { type RowDataPacket } from "mysql2/promise";
import { connectionOptions, type DatabaseSettings } from "../databaseSettings";

export interface Migration {
    /** The three-digit prefix, e.g. "001". */
    readonly version: string;
    readonly file: string;
    readonly sql: string;
    /** sha256 of the file's bytes, hex. */
    readonly checksum: string;
}

export interface AppliedMigration {
    readonly version: string;
    readonly checksum: string;
}

const MIGRATION_LOCK = "webstack_migrations";
const LOCK_TIMEOUT_SECONDS = 30;
const FILE_NAME = /^(\d{3})_[a-z0-9_]+\.sql$/;

export class MigrationError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "MigrationError";
    }
}

/** The migrations in `files` (name and content), sorted by version; rejects misnamed or duplicate files. */
export function parseMigrations(files: readonly { file: string; sql: string }[]): Migration[] {
    const migrations = files.map(({ file, sql }) => {
        const match = FILE_NAME.exec(file);
        if (!match) {
            throw new MigrationError(`Migration file ${file} is misnamed; use NNN_lowercase_name.sql (for example 002_add_tags.sql).`);
        }
        return { version: match[1], file, sql, checksum: createHash("sha256").update(sql).digest("hex") };
    });
    migrations.sort((a, b) => a.version.localeCompare(b.version));
    migrations.forEach((migration, index) => {
        if (index > 0 && migrations[index - 1].version === migration.version) {
            throw new MigrationError(
                `Migration files ${migrations[index - 1].file} and ${migration.file} share version ${migration.version}; renumber one.`,
            );
        }
    });
    return migrations;
}

/** Every `.sql` file in `directory`, parsed by {@link parseMigrations}. */
function readMigrations(directory: string): Migration[] {
    const files = readdirSync(directory)
        .filter((file) => file.endsWith(".sql"))
        .map((file) => ({ file, sql: readFileSync(join(directory, file), "utf8") }));
    return parseMigrations(files);
}

/**
 * The migrations still to apply. Throws when an applied one's file changed. Applied versions with no
 * file are allowed: that is an older release rolled back onto a newer schema.
 */
export function pendingMigrations(migrations: readonly Migration[], applied: readonly AppliedMigration[]): Migration[] {
    const appliedChecksums = new Map(applied.map((row) => [row.version, row.checksum]));
    for (const migration of migrations) {
        const checksum = appliedChecksums.get(migration.version);
        if (checksum !== undefined && checksum !== migration.checksum) {
            throw new MigrationError(
                `Migration ${migration.file} was changed after it was applied (checksum ${checksum.slice(0, 12)} in schema_migrations, ${migration.checksum.slice(0, 12)} on disk); ` +
                    "restore the file and put the change in a new migration.",
            );
        }
    }
    return migrations.filter((migration) => !appliedChecksums.has(migration.version));
}

const CREATE_HISTORY = `CREATE TABLE IF NOT EXISTS schema_migrations (
    version CHAR(3) NOT NULL PRIMARY KEY,
    file VARCHAR(255) NOT NULL,
    checksum CHAR(64) NOT NULL,
    applied_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3)
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4`;

async function holdingLock<T>(connection: mysql.Connection, work: () => Promise<T>): Promise<T> {
    const [[{ locked }]] = await connection.query<RowDataPacket[]>("SELECT GET_LOCK(?, ?) AS locked", [
        MIGRATION_LOCK,
        LOCK_TIMEOUT_SECONDS,
    ]);
    if (locked !== 1) {
        throw new MigrationError(
            `Another migrator held the "${MIGRATION_LOCK}" lock for ${LOCK_TIMEOUT_SECONDS} s; try again when it has finished.`,
        );
    }
    try {
        return await work();
    } finally {
        await connection.query("SELECT RELEASE_LOCK(?)", [MIGRATION_LOCK]);
    }
}

/**
 * How the migrator connects: a deploy is not a request, and a database that is still starting, or
 * far away behind TLS (RDS from a server's first boot, while the machine is busy), may take longer
 * than the app's per-request deadline to answer; so each attempt waits longer, and a database that
 * does not answer yet is asked again a few seconds later.
 */
export const MIGRATION_CONNECT = { timeoutMs: 10_000, attempts: 6, delayMs: 5_000 } as const;

/** Failures that a database still starting or a busy network give: worth another attempt. Anything else (a wrong password, a missing database) is not. */
const TRANSIENT_CONNECT_ERRORS = new Set([
    "ETIMEDOUT",
    "ECONNREFUSED",
    "ECONNRESET",
    "EHOSTUNREACH",
    "ENETUNREACH",
    "EAI_AGAIN",
    "PROTOCOL_CONNECTION_LOST",
]);

export function isTransientConnectError(error: unknown): boolean {
    return TRANSIENT_CONNECT_ERRORS.has((error as { code?: unknown } | null)?.code as string);
}

/** `connect()` until it succeeds, up to `attempts` times while it fails transiently, `delayMs` apart; reports each failure that is tried again. */
export async function connectPatiently<T>(
    connect: () => Promise<T>,
    retry: { readonly attempts: number; readonly delayMs: number; readonly onRetry: (error: Error, attempt: number) => void },
): Promise<T> {
    for (let attempt = 1; ; attempt++) {
        try {
            return await connect();
        } catch (error) {
            if (attempt >= retry.attempts || !isTransientConnectError(error)) {
                throw error;
            }
            retry.onRetry(error as Error, attempt);
            await new Promise((resolve) => setTimeout(resolve, retry.delayMs));
        }
    }
}

/** Applies the pending migrations from `directory` and returns the files it applied, in order. */
export async function migrate(database: DatabaseSettings, directory: string): Promise<string[]> {
    const migrations = readMigrations(directory);
    // A dedicated connection: the lock belongs to a session, and migration files hold several statements.
    const connection = await connectPatiently(
        () =>
            mysql.createConnection({
                ...connectionOptions(database, MIGRATION_CONNECT.timeoutMs),
                multipleStatements: true,
            }),
        {
            ...MIGRATION_CONNECT,
            onRetry: (error, attempt) =>
                console.error(
                    `webstack migrate: the database does not answer yet (${error.message}); trying again in ${MIGRATION_CONNECT.delayMs / 1000} s (attempt ${attempt + 1} of ${MIGRATION_CONNECT.attempts})`,
                ),
        },
    );
    try {
        return await holdingLock(connection, async () => {
            await connection.query(CREATE_HISTORY);
            const [applied] = await connection.query<RowDataPacket[]>("SELECT version, checksum FROM schema_migrations");
            const appliedFiles: string[] = [];
            for (const migration of pendingMigrations(migrations, applied as AppliedMigration[])) {
                try {
                    await connection.query(migration.sql);
                } catch (error) {
                    throw new MigrationError(`Migration ${migration.file} failed: ${(error as Error).message}`);
                }
                await connection.query("INSERT INTO schema_migrations (version, file, checksum) VALUES (?, ?, ?)", [
                    migration.version,
                    migration.file,
                    migration.checksum,
                ]);
                appliedFiles.push(migration.file);
            }
            return appliedFiles;
        });
    } finally {
        await connection.end();
    }
}
