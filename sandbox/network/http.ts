import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { pollUntil } from "../host/exec";

/** An HTTP request to the server's address with the site's name in the Host header (no DNS needed). */
export interface HttpProbe {
    readonly address: string;
    readonly hostName: string;
    readonly path: string;
    /** HTTPS on 443, trusting only this root (PEM) and checking the certificate names hostName. Defaults to HTTP on 80. */
    readonly trustedCaPem?: string;
}

/** The probe's URL, as a person would type it. */
function probeUrl(probe: HttpProbe): string {
    return `${probe.trustedCaPem === undefined ? "http" : "https"}://${probe.hostName}${probe.path}`;
}

/** The status code of one GET, or the error's message when there was no answer. */
function httpStatus(probe: HttpProbe, timeoutMs = 5000): Promise<number | string> {
    return new Promise((resolve) => {
        const common = { host: probe.address, path: probe.path, headers: { host: probe.hostName }, timeout: timeoutMs };
        const onResponse = (response: IncomingMessage) => {
            response.resume();
            resolve(response.statusCode ?? 0);
        };
        const req =
            probe.trustedCaPem === undefined
                ? httpRequest({ ...common, port: 80 }, onResponse)
                : httpsRequest({ ...common, port: 443, ca: probe.trustedCaPem, servername: probe.hostName }, onResponse);
        req.on("timeout", () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
        req.on("error", (error) => resolve(error.message));
        req.end();
    });
}

/** Waits until the probe answers 200; throws with the last answer when it does not within `timeoutMs`. */
export async function waitForHttpOk(probe: HttpProbe, timeoutMs: number): Promise<void> {
    let status: number | string = "none";
    const answered = await pollUntil(async () => ((status = await httpStatus(probe)) === 200 ? true : undefined), {
        timeoutMs,
        intervalMs: 500,
    });
    if (answered === undefined) {
        throw new Error(
            `${probeUrl(probe)} (at ${probe.address}) did not answer 200 within ${timeoutMs / 1000} s; last answer: ${status}.`,
        );
    }
}
