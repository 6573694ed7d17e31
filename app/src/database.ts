/**
 * Connections to MariaDB. The pool drops a connection that failed and opens a new one on the next
 * query, so the app recovers by itself when the database comes back.
 */
import mysql from "mysql2/promise";
import { connectionOptions, type DatabaseSettings } from "../../release/databaseSettings";

export type Pool = mysql.Pool;

/**
 * How long any database operation may take, waiting for a pooled connection included, before the
 * request that needed it fails with a 503: the app answers within this bound whatever MariaDB
 * does, and nginx's proxy_read_timeout, set above it, treats a longer silence as a hung instance.
 */
export const DATABASE_DEADLINE_MS = 1_500;
/** A single statement's bound: a statement that runs out is cancelled and its connection dropped. */
export const QUERY_TIMEOUT_MS = DATABASE_DEADLINE_MS;

/** Any failure to talk to the database; the HTTP layer answers it with 503. */
export class DatabaseUnavailableError extends Error {
    constructor(readonly cause: unknown) {
        super(`Database call failed: ${cause instanceof Error ? cause.message : String(cause)}`);
        this.name = "DatabaseUnavailableError";
    }
}

/**
 * At most `pool.size` connections; at most `pool.queueLimit` requests wait for one, and a request
 * beyond that fails at once (a 503) instead of adding to a queue that could only time out.
 */
export function createPool(config: DatabaseSettings): Pool {
    return mysql.createPool({
        ...connectionOptions(config, DATABASE_DEADLINE_MS),
        connectionLimit: config.pool.size,
        queueLimit: config.pool.queueLimit,
        enableKeepAlive: true,
    });
}

/**
 * Runs a database operation within `deadlineMs`, turning any failure into a
 * {@link DatabaseUnavailableError}. An operation that misses the deadline goes on in the background
 * (a write may still commit: clients retry writes with an idempotency key).
 */
export async function withDatabase<T>(operation: () => Promise<T>, deadlineMs = DATABASE_DEADLINE_MS): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${deadlineMs} ms`)), deadlineMs);
    });
    try {
        return await Promise.race([operation(), deadline]);
    } catch (error) {
        throw error instanceof DatabaseUnavailableError ? error : new DatabaseUnavailableError(error);
    } finally {
        clearTimeout(timer);
    }
}

/** True when `SELECT 1` succeeds within `timeoutMs`; never throws. */
export function databaseAnswers(pool: Pool, timeoutMs: number): Promise<boolean> {
    return withDatabase(() => pool.query({ sql: "SELECT 1", timeout: timeoutMs }), timeoutMs).then(
        () => true,
        () => false,
    );
}
