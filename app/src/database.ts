/**
 * Connections to MariaDB. The pool drops a connection that failed and opens a new one on the next
 * query, so the app recovers by itself when the database comes back.
 */
import mysql from "mysql2/promise";
import type { DatabaseConfig } from "./config";

export type Pool = mysql.Pool;

/** How long opening a connection may take before the request that needed it fails with a 503. */
const CONNECT_TIMEOUT_MS = 3_000;
/** How long a query may take; a request waiting longer gets a 503 rather than hanging. */
export const QUERY_TIMEOUT_MS = 5_000;

/** Any failure to talk to the database; the HTTP layer answers it with 503. */
export class DatabaseUnavailableError extends Error {
    constructor(readonly cause: unknown) {
        super(`Database call failed: ${cause instanceof Error ? cause.message : String(cause)}`);
        this.name = "DatabaseUnavailableError";
    }
}

/** The mysql2 options for a configuration; times are read and written as UTC. */
export function connectionOptions(config: DatabaseConfig): mysql.ConnectionOptions {
    return {
        ...config.endpoint,
        database: config.name,
        user: config.user,
        password: config.password,
        connectTimeout: CONNECT_TIMEOUT_MS,
        timezone: "Z",
        charset: "utf8mb4_unicode_ci",
    };
}

export function createPool(config: DatabaseConfig): Pool {
    return mysql.createPool({ ...connectionOptions(config), connectionLimit: 10, enableKeepAlive: true });
}

/** Runs a database operation, turning any failure into a {@link DatabaseUnavailableError}. */
export async function withDatabase<T>(operation: () => Promise<T>): Promise<T> {
    try {
        return await operation();
    } catch (error) {
        throw new DatabaseUnavailableError(error);
    }
}

/** True when `SELECT 1` succeeds within `timeoutMs`; never throws. */
export async function databaseAnswers(pool: Pool, timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const answered = pool.query({ sql: "SELECT 1", timeout: timeoutMs }).then(
        () => true,
        () => false,
    );
    try {
        return await Promise.race([answered, timedOut]);
    } finally {
        clearTimeout(timer);
    }
}
