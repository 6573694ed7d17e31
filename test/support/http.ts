import * as http from "http";
import * as https from "https";
import type { LoadTarget } from "./load";
import { pollUntil } from "../../sandbox/host/exec";
import { DEFAULT_API_CACHE_SECONDS } from "../../provisioning/files/nginx";

export interface HttpAnswer {
    readonly status: number;
    readonly headers: http.IncomingHttpHeaders;
    readonly body: string;
}

/**
 * One HTTP request to the server's address with the site's name in the Host header, as a browser that
 * resolved it would send; over HTTPS when the target names the CA to trust (the site's name then also
 * the TLS server name).
 */
export function request(
    target: LoadTarget,
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
    timeoutMs = 10_000,
): Promise<HttpAnswer> {
    const payload = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
    const tls = target.trustedCaPem === undefined ? undefined : { ca: target.trustedCaPem, servername: target.hostName };
    return new Promise((resolve, reject) => {
        const outgoing = (tls === undefined ? http.request : https.request)(
            {
                ...tls,
                host: target.address,
                port: target.port ?? (tls === undefined ? 80 : 443),
                method,
                path,
                timeout: timeoutMs,
                headers: {
                    Host: target.hostName,
                    ...(payload === undefined ? {} : { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(payload) }),
                    ...headers,
                },
            },
            (response) => {
                const chunks: Buffer[] = [];
                response.on("data", (chunk: Buffer) => chunks.push(chunk));
                response.on("end", () =>
                    resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString("utf8") }),
                );
            },
        );
        outgoing.on("timeout", () => outgoing.destroy(new Error(`${method} ${path} timed out after ${timeoutMs / 1000} s`)));
        outgoing.on("error", reject);
        outgoing.end(payload);
    });
}

/** Retries `probe` every half second until it returns true or `seconds` pass; returns the seconds it took. */
export async function waitUntil(description: string, seconds: number, probe: () => Promise<boolean>): Promise<number> {
    const started = Date.now();
    const attempt = async () => ((await probe().catch(() => false)) ? true : undefined);
    if ((await pollUntil(attempt, { timeoutMs: seconds * 1000, intervalMs: 500 })) === undefined) {
        throw new Error(`${description}: not true after ${seconds} s`);
    }
    return (Date.now() - started) / 1000;
}

/**
 * How long the site is out: asks `path` every `intervalMs` (each try given a second) until a 200
 * follows a failure, and returns the seconds from the last 200 before the failures to the first 200
 * after them. Throws when `maxSeconds` pass without an outage and a recovery.
 */
export async function measureOutage(target: LoadTarget, path: string, maxSeconds: number, intervalMs = 200): Promise<number> {
    const deadline = Date.now() + maxSeconds * 1000;
    let lastGood = Date.now();
    let failed = false;
    while (Date.now() < deadline) {
        const askedAt = Date.now();
        const good = await request(target, "GET", path, undefined, {}, 1000).then(
            (answer) => answer.status === 200,
            () => false,
        );
        const answeredAt = Date.now();
        if (good && failed) {
            return (answeredAt - lastGood) / 1000;
        }
        if (good) {
            lastGood = answeredAt;
        } else {
            failed = true;
        }
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, intervalMs - (answeredAt - askedAt))));
    }
    throw new Error(`${path}: ${failed ? "no 200 again" : "no outage"} within ${maxSeconds} s`);
}

/**
 * Waits until an API answer nginx's micro-cache kept now has expired, so that an anonymous read
 * sees every write made before it: nginx counts an answer's time in whole seconds of its clock, so
 * an answer kept early in a second stays fresh to the end of the next one.
 */
export function pastTheCacheTime(): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, (DEFAULT_API_CACHE_SECONDS + 1) * 1000 + 300));
}
