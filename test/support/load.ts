import * as http from "http";
import * as https from "https";

/** Where the load goes: the server's address, with the site's name in the Host header. */
export interface LoadTarget {
    readonly address: string;
    readonly port?: number;
    readonly hostName: string;
    /** Send the requests over HTTPS, trusting only this CA (PEM), with hostName as the TLS server name; the port then defaults to 443. */
    readonly tlsCa?: string;
}

export interface LoadOptions {
    /** Request paths, used in turn. */
    readonly paths: readonly string[];
    /** Requests in flight at once. */
    readonly concurrency?: number;
    /** Bounds that stop the load by themselves, whatever the caller does. */
    readonly maxRequests?: number;
    readonly maxSeconds?: number;
}

export interface LoadReport {
    readonly sent: number;
    readonly failed: number;
    /**
     * Requests sent again because the server closed an idle keep-alive connection just as they went
     * out on it, before any answer: what browsers do too (RFC 9112, 9.3.1), since nothing was processed.
     */
    readonly retriedOnClosedKeepAlive: number;
    /** The first few failures, for the test's message. */
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
 * error is a failure, except a reset of a reused keep-alive connection before any answer, which is
 * retried once as a browser would (nginx closes idle connections when it reloads).
 */
export function startLoad(target: LoadTarget, options: LoadOptions): RunningLoad {
    const concurrency = options.concurrency ?? 4;
    const maxRequests = options.maxRequests ?? 500_000;
    const deadline = Date.now() + (options.maxSeconds ?? 300) * 1000;
    const client = target.tlsCa === undefined ? http : https;
    const agent = new client.Agent({ keepAlive: true, maxSockets: concurrency });
    const port = target.port ?? (target.tlsCa === undefined ? 80 : 443);
    const tls = target.tlsCa === undefined ? {} : { ca: target.tlsCa, servername: target.hostName };
    const started = Date.now();
    const failures: string[] = [];
    let sent = 0;
    let failed = 0;
    let retriedOnClosedKeepAlive = 0;
    let stopping = false;
    let lastRelease: string | undefined;

    const fail = (message: string) => {
        failed += 1;
        if (failures.length < 10) failures.push(message);
    };

    const requestOnce = (path: string, retry: boolean): Promise<void> =>
        new Promise<void>((resolve) => {
            const request = client.get(
                // The retry goes out on a new connection: the server may be closing every idle one at once.
                { host: target.address, port, path, agent: retry ? agent : false, headers: { Host: target.hostName }, timeout: 10_000, ...tls },
                (response) => {
                    response.resume();
                    response.on("end", () => {
                        const status = response.statusCode ?? 0;
                        if (status < 200 || status >= 300) {
                            fail(`${path}: HTTP ${status}`);
                        } else {
                            lastRelease = (response.headers["x-release"] as string | undefined) ?? lastRelease;
                        }
                        resolve();
                    });
                },
            );
            request.on("timeout", () => request.destroy(new Error("timed out after 10 s")));
            request.on("error", (error: NodeJS.ErrnoException) => {
                const closedBeforeAnswer = request.reusedSocket && (error.code === "ECONNRESET" || error.message === "socket hang up");
                if (retry && closedBeforeAnswer) {
                    retriedOnClosedKeepAlive += 1;
                    resolve(requestOnce(path, false));
                    return;
                }
                fail(`${path}: ${error.message}`);
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
            return { sent, failed, retriedOnClosedKeepAlive, failures, seconds: (Date.now() - started) / 1000, lastRelease };
        },
    };
}
