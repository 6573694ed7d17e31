/**
 * The database settings the platform gives every release, in the environment (systemd's
 * EnvironmentFile= on the server): DB_SOCKET or DB_HOST and DB_PORT, DB_NAME, DB_USER, DB_PASSWORD,
 * DB_TLS_CA_FILE, DB_POOL_SIZE and DB_QUEUE_LIMIT. The migrator every release carries reads them, and
 * so may the app (the posts app does); a bad value stops the process with a message naming the variable.
 */
import { existsSync, readFileSync } from "node:fs";
import type { ConnectionOptions } from "mysql2/promise";
import { ConfigReader, ENVIRONMENT, type RawConfig } from "../config/configReader";
import type { IntegerBounds } from "../provisioning/settingChecks";

/** Where the database listens: a unix socket (the default) or a TCP host and port. */
export type DatabaseEndpoint = { readonly socketPath: string } | { readonly host: string; readonly port: number };

/** How many connections the app keeps, and how many requests may wait for one. */
export interface PoolLimits {
    readonly size: number;
    readonly queueLimit: number;
}

export interface DatabaseSettings {
    readonly endpoint: DatabaseEndpoint;
    readonly name: string;
    readonly user: string;
    readonly password: string;
    readonly pool: PoolLimits;
    /** Over TCP: the CA bundle (PEM) the server's certificate must chain to; set, the connection is TLS and the host name is verified. */
    readonly tlsCaFile?: string;
}

export type Environment = RawConfig;

/** The environment's reader: every problem names its variable. */
export function environmentReader(env: Environment): ConfigReader {
    return new ConfigReader(env, ENVIRONMENT);
}

/** A TCP port, with the one a message gives as its example. */
export function portBounds(example: number): IntegerBounds {
    return { min: 1, max: 65535, example };
}

/** Any value at all: the database decides which names it takes. */
const ANY_TEXT = (): boolean => true;

const DEFAULT_DB_SOCKET = "/run/mysqld/mysqld.sock";
const DEFAULT_DB_PORT = 3306;
/** The pool when DB_POOL_SIZE and DB_QUEUE_LIMIT are unset; the server's unit sizes both for its instance. */
export const DEFAULT_POOL: PoolLimits = { size: 8, queueLimit: 64 };
const POOL_SIZE_BOUNDS: IntegerBounds = { min: 1, max: 100, example: DEFAULT_POOL.size };
const QUEUE_LIMIT_BOUNDS: IntegerBounds = { min: 1, max: 10_000, example: DEFAULT_POOL.queueLimit };

export function readDatabaseSettings(reader: ConfigReader, env: Environment): DatabaseSettings {
    const socketPath = reader.string("DB_SOCKET");
    const host = reader.string("DB_HOST");
    const port = reader.string("DB_PORT");
    let endpoint: DatabaseEndpoint = { socketPath: socketPath ?? DEFAULT_DB_SOCKET };
    if (socketPath !== undefined && host !== undefined) {
        reader.problems.push("only one of DB_SOCKET and DB_HOST can be set (unset DB_SOCKET to connect over TCP)");
    } else if (host !== undefined) {
        endpoint = { host, port: reader.integer("DB_PORT", portBounds(DEFAULT_DB_PORT)) ?? DEFAULT_DB_PORT };
    } else if (port !== undefined) {
        reader.problems.push("DB_PORT is set without DB_HOST (set DB_HOST too, or unset DB_PORT to use the socket)");
    }
    const tlsCaFile = reader.string("DB_TLS_CA_FILE");
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
        name: reader.required("DB_NAME", ANY_TEXT, "webstack", "the database the app uses.") ?? "",
        user: reader.required("DB_USER", ANY_TEXT, "webstack", "the database user.") ?? "",
        // A password may legitimately be empty (socket authentication), so it is read untrimmed.
        password: env.DB_PASSWORD ?? "",
        pool: {
            size: reader.integer("DB_POOL_SIZE", POOL_SIZE_BOUNDS) ?? DEFAULT_POOL.size,
            queueLimit: reader.integer("DB_QUEUE_LIMIT", QUEUE_LIMIT_BOUNDS) ?? DEFAULT_POOL.queueLimit,
        },
        ...(tlsCaFile !== undefined ? { tlsCaFile } : {}),
    };
}

/** The database settings alone: all that the migrator needs. */
export function parseDatabaseConfig(env: Environment): DatabaseSettings {
    const reader = environmentReader(env);
    return reader.checked(readDatabaseSettings(reader, env));
}

/** A description of the database settings that is safe to log: everything but the password. */
export function describeDatabase(database: DatabaseSettings): Record<string, string | number> {
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
export function connectionOptions(config: DatabaseSettings, connectTimeoutMs: number): ConnectionOptions {
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
