/**
 * Posts in MariaDB. Every call fails with a DatabaseUnavailableError, never a raw driver error, so
 * the HTTP layer can answer 503 for any database trouble.
 */
import type { RowDataPacket, ResultSetHeader } from "mysql2/promise";
import { QUERY_TIMEOUT_MS, withDatabase, type Pool } from "./database";
import { pageOf, type ListQuery, type NewPost, type Page, type Post } from "./posts";

interface PostRow extends RowDataPacket {
    id: number;
    author: string;
    body: string;
    created_at: Date;
}

const COLUMNS = "id, author, body, created_at";

function toPost(row: PostRow): Post {
    return { id: Number(row.id), author: row.author, body: row.body, createdAt: row.created_at.toISOString() };
}

export interface PostStore {
    create(post: NewPost): Promise<Post>;
    /** Newest first; `before` pages through older posts by id. */
    list(query: ListQuery): Promise<Page>;
    /** Undefined when there is no such post. */
    find(id: number): Promise<Post | undefined>;
}

export function postStore(pool: Pool): PostStore {
    const select = (sql: string, values: unknown[]) =>
        withDatabase(async () => (await pool.query<PostRow[]>({ sql, values, timeout: QUERY_TIMEOUT_MS }))[0].map(toPost));
    return {
        create: (post) =>
            withDatabase(async () => {
                // Millisecond precision, the same as the DATETIME(3) column, so the echo equals what is stored.
                const createdAt = new Date();
                const [result] = await pool.query<ResultSetHeader>({
                    sql: "INSERT INTO posts (author, body, created_at) VALUES (?, ?, ?)",
                    values: [post.author, post.body, createdAt],
                    timeout: QUERY_TIMEOUT_MS,
                });
                return { id: result.insertId, ...post, createdAt: createdAt.toISOString() };
            }),
        list: async ({ limit, before }) => {
            const rows =
                before === undefined
                    ? await select(`SELECT ${COLUMNS} FROM posts ORDER BY id DESC LIMIT ?`, [limit + 1])
                    : await select(`SELECT ${COLUMNS} FROM posts WHERE id < ? ORDER BY id DESC LIMIT ?`, [before, limit + 1]);
            return pageOf(rows, limit);
        },
        find: async (id) => (await select(`SELECT ${COLUMNS} FROM posts WHERE id = ?`, [id]))[0],
    };
}
