/**
 * The HTTP API. `buildApp` is the factory the server and the tests share: the tests start it
 * in-process against a real database and may add routes of their own before it listens.
 */
import { STATUS_CODES } from "node:http";
import Fastify, { LogController, type FastifyInstance, type FastifyServerOptions } from "fastify";
import type { AppConfig } from "./config";
import { createPool, databaseAnswers, DatabaseUnavailableError, type Pool } from "./database";
import { IDEMPOTENCY_KEY_HEADER, parseIdempotencyKey, parseListQuery, parseNewPost, parsePostId, ValidationError } from "./posts";
import { IdempotencyKeyReusedError, postStore } from "./postStore";
import { HEALTH_PATH } from "./healthPath";
import { entityTag, ifNoneMatchHolds } from "./validators";

export interface AppDependencies {
    /** The connection pool; the app ends it when it closes. Defaults to a new pool for `config.database`. */
    readonly pool?: Pool;
    /**
     * Fastify's (pino) logger setting. Defaults to JSON logs on stdout at level info: start, stop,
     * failures; no line per request, since nginx's access log already has one.
     */
    readonly logger?: FastifyServerOptions["logger"];
}

/** How long `/readyz` and the health path wait for `SELECT 1`. */
const READINESS_TIMEOUT_MS = 1_000;
/**
 * How long one database probe answers the health path for: an outside checker polling from many places
 * (Route53's checkers, every 30 s each) costs at most one query per second, whatever its rate.
 */
export const HEALTH_CACHE_MS = 1_000;

/** `probe`, run at most once per `ttlMs`: callers within that time share its answer. */
export function cachedProbe(probe: () => Promise<boolean>, ttlMs: number, now: () => number = Date.now): () => Promise<boolean> {
    let last: { readonly at: number; readonly answer: Promise<boolean> } | undefined;
    return () => {
        if (last === undefined || now() - last.at >= ttlMs) {
            last = { at: now(), answer: probe() };
        }
        return last.answer;
    };
}
const BODY_LIMIT_BYTES = 16 * 1024;
/** How soon a client may try again after a 503: the database is usually back within a second or two. */
const RETRY_AFTER_SECONDS = 1;
/** How often an instance forgets expired idempotency keys. */
const KEY_PURGE_INTERVAL_MS = 10 * 60_000;

export interface ErrorResponse {
    readonly statusCode: number;
    readonly body: { readonly error: string; readonly message: string };
    /** Sent as Retry-After: the failure is temporary. */
    readonly retryAfterSeconds?: number;
}

/** Fastify's JSON body parser errors, by code, as the client should read them. */
const JSON_BODY_PROBLEMS: Readonly<Record<string, string>> = {
    FST_ERR_CTP_INVALID_JSON_BODY: 'The request body is not valid JSON; send an object like {"author": "...", "body": "..."}.',
    FST_ERR_CTP_EMPTY_JSON_BODY: 'The request body is empty; send an object like {"author": "...", "body": "..."}.',
};

/** `"Payload Too Large"` → `"payload_too_large"`. */
function statusSlug(statusCode: number): string {
    return (STATUS_CODES[statusCode] ?? "error").toLowerCase().replace(/[^a-z0-9]+/g, "_");
}

/** The JSON answer to an error thrown while handling a request. Only client errors reveal their message. */
function errorResponse(error: Error & { statusCode?: number; code?: string }): ErrorResponse {
    if (error instanceof ValidationError) {
        return { statusCode: 400, body: { error: "invalid_request", message: error.message } };
    }
    if (error instanceof IdempotencyKeyReusedError) {
        return { statusCode: 422, body: { error: "idempotency_key_reused", message: error.message } };
    }
    if (error instanceof DatabaseUnavailableError) {
        return {
            statusCode: 503,
            body: { error: "database_unavailable", message: "The database is unavailable; try again shortly." },
            retryAfterSeconds: RETRY_AFTER_SECONDS,
        };
    }
    const jsonProblem = error.code === undefined ? undefined : JSON_BODY_PROBLEMS[error.code];
    if (jsonProblem !== undefined) {
        return { statusCode: 400, body: { error: "invalid_json", message: jsonProblem } };
    }
    const statusCode = error.statusCode ?? 500;
    if (statusCode >= 400 && statusCode < 500) {
        return { statusCode, body: { error: statusSlug(statusCode), message: error.message } };
    }
    return { statusCode: 500, body: { error: "internal_error", message: "Unexpected server error; the server log has the details." } };
}

export function buildApp(config: AppConfig, dependencies: AppDependencies = {}): FastifyInstance {
    const pool = dependencies.pool ?? createPool(config.database);
    const posts = postStore(pool);
    const app = Fastify({
        logger: dependencies.logger ?? { level: "info" },
        logController: new LogController({ disableRequestLogging: true }),
        bodyLimit: BODY_LIMIT_BYTES,
        // nginx on the same host is the only proxy; trust its X-Forwarded-For for request logs.
        trustProxy: "127.0.0.1",
    });

    let draining = false;
    app.addHook("preClose", async () => {
        draining = true;
    });
    app.addHook("onSend", async (_request, reply) => {
        reply.header("X-Release", config.releaseId);
        // Node keeps a keep-alive connection open after its last response even while the server
        // closes, which would hold shutdown until the client (nginx) lets go; tell it to let go now.
        if (draining) {
            reply.header("Connection", "close");
        }
    });
    // Every successful read carries its validator, and any cache (a browser's, a CDN's) must
    // revalidate before reusing it: asked again with the tag, the app answers 304 without the body.
    app.addHook("onSend", async (request, reply, payload) => {
        const read = request.method === "GET" || request.method === "HEAD";
        if (!read || reply.statusCode !== 200 || (typeof payload !== "string" && !Buffer.isBuffer(payload))) {
            return payload;
        }
        const tag = entityTag(payload);
        reply.header("ETag", tag).header("Cache-Control", "no-cache");
        if (!ifNoneMatchHolds(request.headers["if-none-match"], tag)) {
            return payload;
        }
        reply.code(304);
        return "";
    });
    const purgeTimer = setInterval(() => {
        posts.purgeExpiredKeys().catch((error: unknown) => app.log.warn({ err: error }, "purging expired idempotency keys failed"));
    }, KEY_PURGE_INTERVAL_MS).unref();
    app.addHook("onClose", async () => {
        clearInterval(purgeTimer);
        await pool.end();
    });

    app.setErrorHandler((error: Error & { statusCode?: number }, request, reply) => {
        const response = errorResponse(error);
        if (response.statusCode >= 500) {
            request.log.error({ err: error }, "request failed");
        }
        if (response.retryAfterSeconds !== undefined) {
            reply.header("Retry-After", String(response.retryAfterSeconds));
        }
        return reply.code(response.statusCode).send(response.body);
    });
    app.setNotFoundHandler((request, reply) =>
        reply.code(404).send({ error: "not_found", message: `No route for ${request.method} ${request.url}.` }),
    );

    // The site as an outside checker sees it: the app answers and reaches its database.
    const databaseHealthy = cachedProbe(() => databaseAnswers(pool, READINESS_TIMEOUT_MS), HEALTH_CACHE_MS);
    app.get(HEALTH_PATH, async (_request, reply) =>
        (await databaseHealthy())
            ? { status: "ok", database: "ok" }
            : reply.code(503).header("Retry-After", String(RETRY_AFTER_SECONDS)).send({ status: "unavailable", database: "unreachable" }),
    );
    app.get("/readyz", async (_request, reply) =>
        (await databaseAnswers(pool, READINESS_TIMEOUT_MS)) ? { status: "ready" } : reply.code(503).send({ status: "unavailable" }),
    );
    app.get("/api/version", async () => ({ release: config.releaseId }));

    app.post("/api/posts", async (request, reply) => {
        const idempotencyKey = parseIdempotencyKey(request.headers[IDEMPOTENCY_KEY_HEADER]);
        const { post, replayed } = await posts.create(parseNewPost(request.body), idempotencyKey);
        if (replayed) {
            reply.header("Idempotent-Replayed", "true");
        }
        return reply.code(201).send(post);
    });
    app.get("/api/posts", async (request) => posts.list(parseListQuery(request.query)));
    app.get<{ Params: { id: string } }>("/api/posts/:id", async (request, reply) => {
        const id = parsePostId(request.params.id);
        const post = await posts.find(id);
        return post ?? reply.code(404).send({ error: "not_found", message: `Post ${id} does not exist.` });
    });

    return app;
}
