/**
 * The app's configuration, read from the environment (systemd's EnvironmentFile= on the server) and
 * validated once at start, so a bad value stops the process with a message naming the variable.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** Where the database listens: a unix socket (the default) or a TCP host and port. */
export type DatabaseEndpoint = { readonly socketPath: string } | { readonly host: string; readonly port: number };

/** How many connections the app keeps, and how many requests may wait for one. */
export interface PoolLimits {
    readonly size: number;
    readonly queueLimit: number;
}

export interface DatabaseConfig {
    readonly endpoint: DatabaseEndpoint;
    readonly name: string;
    readonly user: string;
    readonly password: string;
    readonly pool: PoolLimits;
    /** Over TCP: the CA bundle (PEM) the server's certificate must chain to; set, the connection is TLS and the host name is verified. */
    readonly tlsCaFile?: string;
}

export interface AppConfig {
    readonly port: number;
    readonly host: string;
    readonly releaseId: string;
    readonly database: DatabaseConfig;
}

export type Environment = Readonly<Record<string, string | undefined>>;

const DEFAULT_HOST = "127.0.0.1";
const DEFAULT_DB_SOCKET = "/run/mysqld/mysqld.sock";
const DEFAULT_DB_PORT = 3306;
/** The pool when DB_POOL_SIZE and DB_QUEUE_LIMIT are unset; the server's unit sizes both for its instance. */
export const DEFAULT_POOL: PoolLimits = { size: 8, queueLimit: 64 };
const MAX_POOL_SIZE = 100;
const MAX_QUEUE_LIMIT = 10_000;
/** The release id when neither RELEASE_ID nor a release.json says otherwise (running from source). */
const DEV_RELEASE_ID = "dev";

const RELEASE_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** Thrown for any invalid setting; the message lists every problem, each naming its variable. */
export class ConfigError extends Error {
    constructor(readonly problems: readonly string[]) {
        super(`Invalid configuration: ${problems.join("; ")}.`);
        this.name = "ConfigError";
    }
}

/** Collects problems so that one run reports all of them, not just the first. */
class Reader {
    readonly problems: string[] = [];

    constructor(private readonly env: Environment) {}

    /** The trimmed value, or undefined when unset or blank. */
    optional(name: string): string | undefined {
        const value = this.env[name]?.trim();
        return value === undefined || value === "" ? undefined : value;
    }

    required(name: string, hint: string): string {
        const value = this.optional(name);
        if (value === undefined) {
            this.problems.push(`${name} is required (${hint})`);
            return "";
        }
        return value;
    }

    /** A whole number from 1 to `max`, or `fallback` when unset. */
    count(name: string, fallback: number, max: number): number {
        const value = this.optional(name);
        if (value === undefined) {
            return fallback;
        }
        const count = /^\d{1,6}$/.test(value) ? Number(value) : NaN;
        if (!(count >= 1 && count <= max)) {
            this.problems.push(`${name} must be an integer from 1 to ${max} (got "${value}")`);
        }
        return count;
    }

    port(name: string, value: string): number {
        const port = /^\d{1,5}$/.test(value) ? Number(value) : NaN;
        if (!(port >= 1 && port <= 65535)) {
            this.problems.push(`${name} must be an integer from 1 to 65535 (got "${value}")`);
        }
        return port;
    }
}

function readDatabase(reader: Reader, env: Environment): DatabaseConfig {
    const socketPath = reader.optional("DB_SOCKET");
    const host = reader.optional("DB_HOST");
    const port = reader.optional("DB_PORT");
    let endpoint: DatabaseEndpoint = { socketPath: socketPath ?? DEFAULT_DB_SOCKET };
    if (socketPath !== undefined && host !== undefined) {
        reader.problems.push("only one of DB_SOCKET and DB_HOST can be set (unset DB_SOCKET to connect over TCP)");
    } else if (host !== undefined) {
        endpoint = { host, port: port === undefined ? DEFAULT_DB_PORT : reader.port("DB_PORT", port) };
    } else if (port !== undefined) {
        reader.problems.push("DB_PORT is set without DB_HOST (set DB_HOST too, or unset DB_PORT to use the socket)");
    }
    const tlsCaFile = reader.optional("DB_TLS_CA_FILE");
    if (tlsCaFile !== undefined && host === undefined) {
        reader.problems.push(
            "DB_TLS_CA_FILE is set without DB_HOST (TLS is for a database reached over TCP; set DB_HOST, or unset DB_TLS_CA_FILE)",
        );
    } else if (tlsCaFile !== undefined && !existsSync(tlsCaFile)) {
        reader.problems.push(
            `DB_TLS_CA_FILE names ${tlsCaFile}, which does not exist (the CA bundle of the database server's certificate)`,
        );
    }
    return {
        endpoint,
        name: reader.required("DB_NAME", "the database the app uses"),
        user: reader.required("DB_USER", "the database user"),
        // A password may legitimately be empty (socket authentication), so it is read untrimmed.
        password: env.DB_PASSWORD ?? "",
        pool: {
            size: reader.count("DB_POOL_SIZE", DEFAULT_POOL.size, MAX_POOL_SIZE),
            queueLimit: reader.count("DB_QUEUE_LIMIT", DEFAULT_POOL.queueLimit, MAX_QUEUE_LIMIT),
        },
        ...(tlsCaFile !== undefined ? { tlsCaFile } : {}),
    };
}

function finish<T>(reader: Reader, config: T): T {
    if (reader.problems.length > 0) {
        throw new ConfigError(reader.problems);
    }
    return config;
}

/** The database settings alone: all that `server.js migrate` needs. */
export function parseDatabaseConfig(env: Environment): DatabaseConfig {
    const reader = new Reader(env);
    return finish(reader, readDatabase(reader, env));
}

/**
 * The full configuration for serving. `releaseIdFallback` applies when RELEASE_ID is unset
 * (see {@link readReleaseId}).
 */
export function parseConfig(env: Environment, releaseIdFallback: string): AppConfig {
    const reader = new Reader(env);
    const portValue = reader.required("PORT", "the TCP port to listen on, 1-65535");
    const releaseId = reader.optional("RELEASE_ID") ?? releaseIdFallback;
    if (!RELEASE_ID.test(releaseId)) {
        reader.problems.push(`RELEASE_ID must be 1-64 letters, digits, ".", "_" or "-" (got "${releaseId}")`);
    }
    return finish(reader, {
        port: portValue === "" ? 0 : reader.port("PORT", portValue),
        host: reader.optional("HOST") ?? DEFAULT_HOST,
        releaseId,
        database: readDatabase(reader, env),
    });
}

/** The id in `<directory>/release.json`, written by the release build; {@link DEV_RELEASE_ID} when absent. */
export function readReleaseId(directory: string): string {
    const file = join(directory, "release.json");
    if (!existsSync(file)) {
        return DEV_RELEASE_ID;
    }
    let id: unknown;
    try {
        id = (JSON.parse(readFileSync(file, "utf8")) as { id?: unknown }).id;
    } catch (error) {
        throw new ConfigError([`${file} is not valid JSON (${(error as Error).message}); rebuild the release`]);
    }
    if (typeof id !== "string") {
        throw new ConfigError([`${file} has no string "id"; rebuild the release`]);
    }
    return id;
}

/** A description of the database settings that is safe to log: everything but the password. */
export function describeDatabase(database: DatabaseConfig): Record<string, string | number> {
    return {
        ...database.endpoint,
        name: database.name,
        user: database.user,
        ...(database.tlsCaFile !== undefined ? { tlsCaFile: database.tlsCaFile } : {}),
    };
}
