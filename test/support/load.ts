import * as http from "http";

/** Where the load goes: the server's address, with the site's name in the Host header. */
export interface LoadTarget {
    readonly address: string;
    readonly port?: number;
    readonly hostName: string;
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

/** Sends GET requests continuously until stopped or a bound is reached; every non-2xx answer or error is a failure. */
export function startLoad(target: LoadTarget, options: LoadOptions): RunningLoad {
    const concurrency = options.concurrency ?? 4;
    const maxRequests = options.maxRequests ?? 50_000;
    const deadline = Date.now() + (options.maxSeconds ?? 300) * 1000;
    const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
    const started = Date.now();
    const failures: string[] = [];
    let sent = 0;
    let failed = 0;
    let stopping = false;
    let lastRelease: string | undefined;

    const requestOnce = (path: string) =>
        new Promise<void>((resolve) => {
            const request = http.get(
                { host: target.address, port: target.port ?? 80, path, agent, headers: { Host: target.hostName }, timeout: 10_000 },
                (response) => {
                    response.resume();
                    response.on("end", () => {
                        const status = response.statusCode ?? 0;
                        if (status < 200 || status >= 300) {
                            failed += 1;
                            if (failures.length < 10) failures.push(`${path}: HTTP ${status}`);
                        } else {
                            lastRelease = (response.headers["x-release"] as string | undefined) ?? lastRelease;
                        }
                        resolve();
                    });
                },
            );
            request.on("timeout", () => request.destroy(new Error("timed out after 10 s")));
            request.on("error", (error) => {
                failed += 1;
                if (failures.length < 10) failures.push(`${path}: ${error.message}`);
                resolve();
            });
        });

    const worker = async (offset: number) => {
        for (let index = offset; !stopping && sent < maxRequests && Date.now() < deadline; index += concurrency) {
            sent += 1;
            await requestOnce(options.paths[index % options.paths.length]);
        }
    };
    const workers = Promise.all(Array.from({ length: concurrency }, (_, offset) => worker(offset)));

    return {
        async stop() {
            stopping = true;
            await workers;
            agent.destroy();
            return { sent, failed, failures, seconds: (Date.now() - started) / 1000, lastRelease };
        },
    };
}
