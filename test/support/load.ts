import * as http from "http";
import * as https from "https";
import { inTestRange, requireTestRangeFenced } from "../../sandbox/network/network";

/** Where the load goes: the server's address, with the site's name in the Host header. */
export interface LoadTarget {
    readonly address: string;
    readonly port?: number;
    readonly hostName: string;
    /** Send the requests over HTTPS, trusting only this CA (PEM), with hostName as the TLS server name; the port then defaults to 443. */
    readonly trustedCaPem?: string;
}

export interface LoadOptions {
    /** Request paths, used in turn. */
    readonly paths: readonly string[];
    /** Requests in flight at once. */
    readonly concurrency?: number;
    /** Bounds that stop the load by themselves, whatever the caller does. */
    readonly maxRequests?: number;
    readonly maxSeconds?: number;
    /** How long a request may take before it counts as a "timeout". Defaults to 10 s. */
    readonly timeoutMs?: number;
}

/** The {@link Outcome} of an answer: a 503 counts as deliberate only in JSON and with Retry-After. */
export function answerOutcome(status: number, headers: http.IncomingHttpHeaders): Outcome {
    const deliberate = status === 503 && headers["retry-after"] !== undefined && /^application\/json/.test(headers["content-type"] ?? "");
    return deliberate ? "503 deliberate" : String(status);
}

/** The {@link Outcome} of a request that got no answer. */
export function errorOutcome(error: NodeJS.ErrnoException): Outcome {
    if (error.code === "ECONNRESET" || error.message === "socket hang up") {
        return "reset";
    }
    if (error.code === "ECONNREFUSED") {
        return "refused";
    }
    if (error.code === "EHOSTUNREACH") {
        return "unreachable";
    }
    return error.code === "ETIMEDOUT" ? "timeout" : "error";
}

/** "200: 1520, 503 deliberate: 12": the outcomes for a test's printed figures. */
export function describeOutcomes(outcomes: Readonly<Record<Outcome, number>>): string {
    return Object.entries(outcomes)
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([outcome, count]) => `${outcome}: ${count}`)
        .join(", ");
}

/**
 * What became of a request: its HTTP status ("200", "404", ...), "503 deliberate" for a 503 in JSON
 * with Retry-After (the stack's own way to say "busy, come back"), or how the connection failed:
 * "reset", "refused", "unreachable" (no route to the host), "timeout" or "error".
 */
export type Outcome = string;

export interface LoadReport {
    readonly sent: number;
    /** Requests without a 2xx answer, whatever became of them. */
    readonly failed: number;
    /** How many requests ended in each {@link Outcome}. */
    readonly outcomes: Readonly<Record<Outcome, number>>;
    /** The longest a request waited for its answer (or its failure), in seconds. */
    readonly slowestSeconds: number;
    /**
     * GETs sent again, once, on a new connection, because the server closed theirs before any answer:
     * what RFC 9110 (9.2.2) lets a client do with an idempotent request, and what nginx's reload
     * calls for (its old workers close the connections that wait for a request, a reused keep-alive
     * one or one they had just accepted). A second close fails the request.
     */
    readonly retriedOnClosedConnection: number;
    /** The first few failures, each with when it was sent, for the test's message. */
    readonly failures: readonly string[];
    readonly seconds: number;
    /** The X-Release header of the last successful answer. */
    readonly lastRelease: string | undefined;
}

export interface RunningLoad {
    /** Stops sending, waits for the requests in flight, and reports. */
    stop(): Promise<LoadReport>;
}

/**
 * Sends GET requests continuously until stopped or a bound is reached. Every non-2xx answer or
 * error is a failure, except a connection closed before any answer, which is retried once on a new
 * connection ({@link LoadReport.retriedOnClosedConnection}). Refuses to start against a test host
 * unless the host fences the test range, so that none of it can leave this machine.
 */
export function startLoad(target: LoadTarget, options: LoadOptions): RunningLoad {
    if (inTestRange(target.address)) {
        requireTestRangeFenced();
    }
    const concurrency = options.concurrency ?? 4;
    const timeoutMs = options.timeoutMs ?? 10_000;
    const maxRequests = options.maxRequests ?? 500_000;
    const deadline = Date.now() + (options.maxSeconds ?? 300) * 1000;
    const client = target.trustedCaPem === undefined ? http : https;
    const agent = new client.Agent({ keepAlive: true, maxSockets: concurrency });
    const port = target.port ?? (target.trustedCaPem === undefined ? 80 : 443);
    const tls = target.trustedCaPem === undefined ? {} : { ca: target.trustedCaPem, servername: target.hostName };
    const started = Date.now();
    const failures: string[] = [];
    let sent = 0;
    let failed = 0;
    let retriedOnClosedConnection = 0;
    let stopping = false;
    let lastRelease: string | undefined;
    let slowestSeconds = 0;
    const outcomes: Record<Outcome, number> = {};

    const record = (outcome: Outcome, startedAt: number, failure?: string) => {
        outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
        slowestSeconds = Math.max(slowestSeconds, (Date.now() - startedAt) / 1000);
        if (failure !== undefined) {
            failed += 1;
            // When it was sent, to set beside what else happened then.
            if (failures.length < 10) failures.push(`${failure} (sent at ${new Date(startedAt).toISOString().slice(11, 21)} UTC)`);
        }
    };

    const requestOnce = (path: string, retry: boolean, startedAt = Date.now()): Promise<void> =>
        new Promise<void>((resolve) => {
            const request = client.get(
                // The retry goes out on a new connection: the server may be closing every idle one at once.
                {
                    host: target.address,
                    port,
                    path,
                    agent: retry ? agent : false,
                    headers: { Host: target.hostName },
                    timeout: timeoutMs,
                    ...tls,
                },
                (response) => {
                    response.resume();
                    response.on("end", () => {
                        const status = response.statusCode ?? 0;
                        const ok = status >= 200 && status < 300;
                        if (ok) {
                            lastRelease = (response.headers["x-release"] as string | undefined) ?? lastRelease;
                        }
                        record(answerOutcome(status, response.headers), startedAt, ok ? undefined : `${path}: HTTP ${status}`);
                        resolve();
                    });
                },
            );
            request.on("timeout", () =>
                request.destroy(Object.assign(new Error(`timed out after ${timeoutMs / 1000} s`), { code: "ETIMEDOUT" })),
            );
            request.on("error", (error: NodeJS.ErrnoException) => {
                const closedBeforeAnswer = error.code === "ECONNRESET" || error.message === "socket hang up";
                if (retry && closedBeforeAnswer) {
                    retriedOnClosedConnection += 1;
                    resolve(requestOnce(path, false, startedAt));
                    return;
                }
                record(errorOutcome(error), startedAt, `${path}: ${error.message}${retry ? "" : " (on the retry)"}`);
                resolve();
            });
        });

    const worker = async (offset: number) => {
        for (let index = offset; !stopping && sent < maxRequests && Date.now() < deadline; index += concurrency) {
            sent += 1;
            await requestOnce(options.paths[index % options.paths.length], true);
        }
    };
    const workers = Promise.all(Array.from({ length: concurrency }, (_, offset) => worker(offset)));

    return {
        async stop() {
            stopping = true;
            await workers;
            agent.destroy();
            return {
                sent,
                failed,
                outcomes,
                slowestSeconds,
                retriedOnClosedConnection,
                failures,
                seconds: (Date.now() - started) / 1000,
                lastRelease,
            };
        },
    };
}
