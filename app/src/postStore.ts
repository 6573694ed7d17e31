/**
 * Posts in MariaDB. Every call fails with a DatabaseUnavailableError, never a raw driver error, so
 * the HTTP layer can answer 503 for any database trouble; the one exception is a reused
 * idempotency key, which is the client's mistake (IdempotencyKeyReusedError).
 */
import type { PoolConnection, ResultSetHeader, RowDataPacket } from "mysql2/promise";
import { DatabaseUnavailableError, QUERY_TIMEOUT_MS, withDatabase, type Pool } from "./database";
import { IDEMPOTENCY_KEY_TTL_HOURS, newPostFingerprint, pageOf, type ListQuery, type NewPost, type Page, type Post } from "./posts";

interface PostRow extends RowDataPacket {
    id: number;
    author: string;
    body: string;
    created_at: Date;
}

interface KeyedPostRow extends PostRow {
    fingerprint: string;
}

const COLUMNS = "id, author, body, created_at";
const MS_PER_HOUR = 3_600_000;
/** Expired keys deleted per statement, so that a purge never holds locks for long. */
const PURGE_BATCH = 10_000;

function toPost(row: PostRow): Post {
    return { id: Number(row.id), author: row.author, body: row.body, createdAt: row.created_at.toISOString() };
}

/** A new post, or the post that an earlier request with the same idempotency key stored. */
export interface CreatedPost {
    readonly post: Post;
    /** True when an earlier request with the same key stored the post; nothing was written now. */
    readonly replayed: boolean;
}

/** The key was used within its retention for a post with other content. */
export class IdempotencyKeyReusedError extends Error {
    constructor(readonly key: string) {
        super(
            `The Idempotency-Key "${key}" was used in the last ${IDEMPOTENCY_KEY_TTL_HOURS} hours for a post with other content; send a new key for a new post.`,
        );
        this.name = "IdempotencyKeyReusedError";
    }
}

/** Keys created before this moment have expired: a request with one stores its post again. */
export function keyExpiryCutoff(now: Date): Date {
    return new Date(now.getTime() - IDEMPOTENCY_KEY_TTL_HOURS * MS_PER_HOUR);
}

/** An earlier post under the key is answered again when the request is the same, refused when it differs. */
function replayEarlier(key: string, fingerprint: string, earlier: { readonly fingerprint: string; readonly post: Post }): CreatedPost {
    if (earlier.fingerprint !== fingerprint) {
        throw new IdempotencyKeyReusedError(key);
    }
    return { post: earlier.post, replayed: true };
}

export interface PostStore {
    /**
     * Stores a post. With an idempotency key, a post is stored once per key: a retry, even one
     * racing the first attempt, gets the first attempt's post back.
     */
    create(post: NewPost, idempotencyKey?: string): Promise<CreatedPost>;
    /** Newest first; `before` pages through older posts by id. */
    list(query: ListQuery): Promise<Page>;
    /** Undefined when there is no such post. */
    find(id: number): Promise<Post | undefined>;
    /** Forgets expired idempotency keys; returns how many. */
    purgeExpiredKeys(now?: Date): Promise<number>;
}

type Runner = Pick<Pool | PoolConnection, "query">;

async function insertPost(runner: Runner, post: NewPost): Promise<Post> {
    // Millisecond precision, the same as the DATETIME(3) column, so the echo equals what is stored.
    const createdAt = new Date();
    const [result] = await runner.query<ResultSetHeader>({
        sql: "INSERT INTO posts (author, body, created_at) VALUES (?, ?, ?)",
        values: [post.author, post.body, createdAt],
        timeout: QUERY_TIMEOUT_MS,
    });
    return { id: result.insertId, ...post, createdAt: createdAt.toISOString() };
}

async function postUnderKey(runner: Runner, key: string, cutoff: Date): Promise<{ fingerprint: string; post: Post } | undefined> {
    const [rows] = await runner.query<KeyedPostRow[]>({
        sql: `SELECT k.fingerprint, p.id, p.author, p.body, p.created_at FROM post_idempotency_keys k JOIN posts p ON p.id = k.post_id
              WHERE k.idempotency_key = ? AND k.created_at >= ?`,
        values: [key, cutoff],
        timeout: QUERY_TIMEOUT_MS,
    });
    return rows.length === 0 ? undefined : { fingerprint: rows[0].fingerprint, post: toPost(rows[0]) };
}

function isDuplicateKey(error: unknown): boolean {
    return (error as { code?: string }).code === "ER_DUP_ENTRY";
}

/**
 * The post and its key in one transaction: both are stored or neither. When another request stored
 * the key first, this one's post is rolled back and the other's is returned as the earlier one.
 */
async function insertPostUnderKey(
    pool: Pool,
    post: NewPost,
    key: string,
    fingerprint: string,
    cutoff: Date,
): Promise<{ created: Post } | { earlier: { fingerprint: string; post: Post } | undefined }> {
    const connection = await pool.getConnection();
    try {
        await connection.beginTransaction();
        await connection.query({
            sql: "DELETE FROM post_idempotency_keys WHERE idempotency_key = ? AND created_at < ?",
            values: [key, cutoff],
            timeout: QUERY_TIMEOUT_MS,
        });
        const created = await insertPost(connection, post);
        try {
            await connection.query({
                sql: "INSERT INTO post_idempotency_keys (idempotency_key, fingerprint, post_id, created_at) VALUES (?, ?, ?, ?)",
                values: [key, fingerprint, created.id, new Date(created.createdAt)],
                timeout: QUERY_TIMEOUT_MS,
            });
        } catch (error) {
            if (!isDuplicateKey(error)) {
                throw error;
            }
            await connection.rollback();
            return { earlier: await postUnderKey(connection, key, cutoff) };
        }
        await connection.commit();
        return { created };
    } catch (error) {
        await connection.rollback().catch(() => undefined);
        throw error;
    } finally {
        connection.release();
    }
}

export function postStore(pool: Pool): PostStore {
    const select = (sql: string, values: unknown[]) =>
        withDatabase(async () => (await pool.query<PostRow[]>({ sql, values, timeout: QUERY_TIMEOUT_MS }))[0].map(toPost));
    return {
        create: async (post, idempotencyKey) => {
            if (idempotencyKey === undefined) {
                return { post: await withDatabase(() => insertPost(pool, post)), replayed: false };
            }
            const fingerprint = newPostFingerprint(post);
            const cutoff = keyExpiryCutoff(new Date());
            const outcome = await withDatabase(async () => {
                const earlier = await postUnderKey(pool, idempotencyKey, cutoff);
                return earlier === undefined ? insertPostUnderKey(pool, post, idempotencyKey, fingerprint, cutoff) : { earlier };
            });
            if ("created" in outcome) {
                return { post: outcome.created, replayed: false };
            }
            if (outcome.earlier === undefined) {
                // Another request stored the key, yet it is gone when read back: only a purge racing by can do that; a retry succeeds.
                throw new DatabaseUnavailableError(
                    new Error(`the post under Idempotency-Key "${idempotencyKey}" vanished while it was read back`),
                );
            }
            return replayEarlier(idempotencyKey, fingerprint, outcome.earlier);
        },
        list: async ({ limit, before }) => {
            const rows =
                before === undefined
                    ? await select(`SELECT ${COLUMNS} FROM posts ORDER BY id DESC LIMIT ?`, [limit + 1])
                    : await select(`SELECT ${COLUMNS} FROM posts WHERE id < ? ORDER BY id DESC LIMIT ?`, [before, limit + 1]);
            return pageOf(rows, limit);
        },
        find: async (id) => (await select(`SELECT ${COLUMNS} FROM posts WHERE id = ?`, [id]))[0],
        purgeExpiredKeys: (now = new Date()) =>
            withDatabase(async () => {
                const [result] = await pool.query<ResultSetHeader>({
                    sql: "DELETE FROM post_idempotency_keys WHERE created_at < ? LIMIT ?",
                    values: [keyExpiryCutoff(now), PURGE_BATCH],
                    timeout: QUERY_TIMEOUT_MS,
                });
                return result.affectedRows;
            }),
    };
}
