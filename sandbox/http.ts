import { request } from "node:http";
import { sleep } from "./exec";

/** An HTTP request to the server's address with the site's name in the Host header (no DNS needed). */
export interface HttpProbe {
    readonly address: string;
    readonly hostName: string;
    readonly path: string;
}

/** The status code of one GET, or the error's message when there was no answer. */
export function httpStatus(probe: HttpProbe, timeoutMs = 5000): Promise<number | string> {
    return new Promise((resolve) => {
        const req = request({ host: probe.address, port: 80, path: probe.path, headers: { host: probe.hostName }, timeout: timeoutMs }, (response) => {
            response.resume();
            resolve(response.statusCode ?? 0);
        });
        req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
        req.on("error", (error) => resolve(error.message));
        req.end();
    });
}

/** Waits until the probe answers 200; throws with the last answer when it does not within `timeoutMs`. */
export async function waitForHttpOk(probe: HttpProbe, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const status = await httpStatus(probe);
        if (status === 200) {
            return;
        }
        if (Date.now() > deadline) {
            throw new Error(`http://${probe.hostName}${probe.path} (at ${probe.address}) did not answer 200 within ${timeoutMs / 1000} s; last answer: ${status}.`);
        }
        await sleep(500);
    }
}
