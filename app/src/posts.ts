/**
 * Posts: the rules for what a client may send, as pure functions that either return clean values or
 * throw a {@link ValidationError} naming the field and the rule.
 */
import { createHash } from "node:crypto";

export interface Post {
    readonly id: number;
    readonly author: string;
    readonly body: string;
    /** ISO 8601, UTC. */
    readonly createdAt: string;
}

export interface NewPost {
    readonly author: string;
    readonly body: string;
}

export interface ListQuery {
    readonly limit: number;
    /** Only posts with a smaller id (older ones); undefined for the newest page. */
    readonly before?: number;
}

const AUTHOR_MAX_LENGTH = 64;
const BODY_MAX_LENGTH = 2000;
const DEFAULT_LIMIT = 20;
const MAX_LIMIT = 100;
/** The header a client sends so that a retried `POST /api/posts` stores its post once. */
export const IDEMPOTENCY_KEY_HEADER = "idempotency-key";
const IDEMPOTENCY_KEY_MAX_LENGTH = 128;
/** How long a key is remembered; a retry after that stores the post again. */
export const IDEMPOTENCY_KEY_TTL_HOURS = 24;

/** Bad client input; the HTTP layer answers it with 400 and this message. */
export class ValidationError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "ValidationError";
    }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

function rejectUnknownFields(input: Record<string, unknown>, allowed: readonly string[], what: string): void {
    const unknown = Object.keys(input).filter((key) => !allowed.includes(key));
    if (unknown.length > 0) {
        throw new ValidationError(
            `${what} has unknown field(s) ${unknown.map((key) => `"${key}"`).join(", ")}; allowed: ${allowed.join(", ")}.`,
        );
    }
}

function trimmedText(input: Record<string, unknown>, field: string, maxLength: number): string {
    const value = input[field];
    if (value === undefined) {
        throw new ValidationError(`"${field}" is required: a string of 1-${maxLength} characters.`);
    }
    if (typeof value !== "string") {
        throw new ValidationError(`"${field}" must be a string (got ${value === null ? "null" : typeof value}).`);
    }
    const text = value.trim();
    // Counted in code points, as MariaDB's utf8mb4 VARCHAR counts them, so emoji count once.
    const length = [...text].length;
    if (length < 1 || length > maxLength) {
        throw new ValidationError(`"${field}" must be 1-${maxLength} characters after trimming (got ${length}).`);
    }
    return text;
}

/** The post a `POST /api/posts` body asks for: `{ author, body }`, both trimmed. */
export function parseNewPost(input: unknown): NewPost {
    if (!isPlainObject(input)) {
        throw new ValidationError('The request body must be a JSON object like {"author": "...", "body": "..."}.');
    }
    rejectUnknownFields(input, ["author", "body"], "The request body");
    return {
        author: trimmedText(input, "author", AUTHOR_MAX_LENGTH),
        body: trimmedText(input, "body", BODY_MAX_LENGTH),
    };
}

const IDEMPOTENCY_KEY = new RegExp(`^[\\x21-\\x7e]{1,${IDEMPOTENCY_KEY_MAX_LENGTH}}$`);

/**
 * The `Idempotency-Key` header of a request: 1-128 visible ASCII characters (a UUID fits), or
 * undefined when the client sent none.
 */
export function parseIdempotencyKey(header: string | string[] | undefined): string | undefined {
    if (header === undefined) {
        return undefined;
    }
    if (Array.isArray(header) || !IDEMPOTENCY_KEY.test(header)) {
        throw new ValidationError(
            `The Idempotency-Key header must be given once, as 1-${IDEMPOTENCY_KEY_MAX_LENGTH} visible ASCII characters without spaces (for example a UUID such as 5f0c3c3e-8a4e-4d43-9c1e-2a7f1b2e9d10).`,
        );
    }
    return header;
}

/** What identifies a new post's content: a retry with the same key must ask for the same post. */
export function newPostFingerprint(post: NewPost): string {
    return createHash("sha256")
        .update(JSON.stringify([post.author, post.body]))
        .digest("hex");
}

/** A positive integer that JavaScript and MariaDB's BIGINT both hold exactly, or undefined. */
function positiveInteger(text: unknown): number | undefined {
    if (typeof text !== "string" || !/^[1-9]\d*$/.test(text)) {
        return undefined;
    }
    const value = Number(text);
    return Number.isSafeInteger(value) ? value : undefined;
}

function singleQueryValue(query: Record<string, unknown>, name: string): unknown {
    const value = query[name];
    if (Array.isArray(value)) {
        throw new ValidationError(`Query parameter "${name}" must be given once.`);
    }
    return value;
}

/** `?limit=&before=` of `GET /api/posts`. */
export function parseListQuery(query: unknown): ListQuery {
    const input = isPlainObject(query) ? query : {};
    rejectUnknownFields(input, ["limit", "before"], "The query");
    const limitText = singleQueryValue(input, "limit");
    const beforeText = singleQueryValue(input, "before");
    const limit = limitText === undefined ? DEFAULT_LIMIT : positiveInteger(limitText);
    if (limit === undefined || limit > MAX_LIMIT) {
        throw new ValidationError(`Query parameter "limit" must be an integer from 1 to ${MAX_LIMIT} (got "${String(limitText)}").`);
    }
    if (beforeText === undefined) {
        return { limit };
    }
    const before = positiveInteger(beforeText);
    if (before === undefined) {
        throw new ValidationError(`Query parameter "before" must be a positive integer post id (got "${String(beforeText)}").`);
    }
    return { limit, before };
}

/** The `:id` of `GET /api/posts/:id`. */
export function parsePostId(text: unknown): number {
    const id = positiveInteger(text);
    if (id === undefined) {
        throw new ValidationError(`Post id must be a positive integer (got "${String(text)}").`);
    }
    return id;
}

export interface Page {
    readonly posts: readonly Post[];
    /** Pass as `before` to get the next (older) page; null when there is none. */
    readonly nextBefore: number | null;
}

/** A page from up to `limit + 1` newest-first rows: the extra row only tells that an older page exists. */
export function pageOf(rows: readonly Post[], limit: number): Page {
    const posts = rows.slice(0, limit);
    return { posts, nextBefore: rows.length > limit ? posts[posts.length - 1].id : null };
}
