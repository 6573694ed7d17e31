/**
 * The database settings the platform gives every release, in the environment (systemd's
 * EnvironmentFile= on the server): DB_SOCKET or DB_HOST and DB_PORT, DB_NAME, DB_USER, DB_PASSWORD,
 * DB_TLS_CA_FILE, DB_POOL_SIZE and DB_QUEUE_LIMIT. The migrator every release carries reads them, and
 * so may the app (the posts app does); a bad value stops the process with a message naming the variable.
 */
import { existsSync, readFileSync } from "node:fs";
import type { ConnectionOptions } from "mysql2/promise";

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

export type Environment = Readonly<Record<string, string | undefined>>;

const DEFAULT_DB_SOCKET = "/run/mysqld/mysqld.sock";
const DEFAULT_DB_PORT = 3306;
/** The pool when DB_POOL_SIZE and DB_QUEUE_LIMIT are unset; the server's unit sizes both for its instance. */
export const DEFAULT_POOL: PoolLimits = { size: 8, queueLimit: 64 };
const MAX_POOL_SIZE = 100;
const MAX_QUEUE_LIMIT = 10_000;

/** Thrown for any invalid setting; the message lists every problem, each naming its variable. */
export class ConfigError extends Error {
    constructor(readonly problems: readonly string[]) {
        super(`Invalid configuration: ${problems.join("; ")}.`);
        this.name = "ConfigError";
    }
}

/** Collects problems so that one run reports all of them, not just the first. */
export class SettingsReader {
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

    /** `config`, unless a problem was found on the way: then a {@link ConfigError} that lists them all. */
    checked<T>(config: T): T {
        if (this.problems.length > 0) {
            throw new ConfigError(this.problems);
        }
        return config;
    }
}

export function readDatabaseSettings(reader: SettingsReader, env: Environment): DatabaseConfig {
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

/** The database settings alone: all that the migrator needs. */
export function parseDatabaseConfig(env: Environment): DatabaseConfig {
    const reader = new SettingsReader(env);
    return reader.checked(readDatabaseSettings(reader, env));
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

/**
 * The mysql2 options for a configuration; times are read and written as UTC. A connection attempt
 * gives up after `connectTimeoutMs`: the app bounds it by its request deadline, the migrator waits longer.
 */
export function connectionOptions(config: DatabaseConfig, connectTimeoutMs: number): ConnectionOptions {
    return {
        ...config.endpoint,
        database: config.name,
        user: config.user,
        password: config.password,
        connectTimeout: connectTimeoutMs,
        timezone: "Z",
        charset: "utf8mb4_unicode_ci",
        ...(config.tlsCaFile !== undefined
            ? { ssl: { ca: readFileSync(config.tlsCaFile, "utf8"), rejectUnauthorized: true, verifyIdentity: true } }
            : {}),
    };
}
