import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as https from "node:https";
import { basename, join } from "node:path";
import { shellQuote } from "../../provisioning/script";
import { pollUntil, runCommand, secondsSince, tailLines } from "../host/exec";
import { ensureHostPackages, isProcessAlive } from "../host/host";
import { RUNTIME_DIR, checkedSandboxName } from "../host/layout";
import type { Sandbox } from "../host/state";
import { sshRunAsRoot } from "../host/ssh";

/**
 * The sandbox's Let's Encrypt: pebble, the ACME test server, on the host end of the sandbox's veth
 * pair. It validates HTTP-01 challenges on the server's port 80 and resolves names through the
 * sandbox's DNS server, so certbot on the server goes through the same steps as against Let's
 * Encrypt. Pebble's own HTTPS listener gets a certificate from a CA made here, which the server is
 * made to trust; the certificates pebble issues chain to a root that pebble makes anew each start.
 */

const PEBBLE_PACKAGE = "pebble";
const PEBBLE_COMMAND = "/usr/bin/pebble";
export const ACME_DIRECTORY_PORT = 14000;
export const ACME_MANAGEMENT_PORT = 15000;
/** Pebble validates HTTP-01 and TLS-ALPN-01 on these ports of the server: the real ones. */
const CHALLENGE_HTTP_PORT = 80;
const CHALLENGE_TLS_PORT = 443;

/**
 * No random sleeps before validation (fast), and no nonces rejected at random (certbot would retry,
 * but a test must not depend on retries).
 */
export const PEBBLE_ENVIRONMENT: Readonly<Record<string, string>> = { PEBBLE_VA_NOSLEEP: "1", PEBBLE_WFE_NONCEREJECT: "0" };

/** Where the server trusts the listener's CA: update-ca-certificates adds every *.crt here to the system bundle that Debian's certbot uses. */
const GUEST_LISTENER_CA_PATH = "/usr/local/share/ca-certificates/webstack-sandbox-acme.crt";

/** The listener's certificates are thrown away when pebble stops; a day is plenty. */
const LISTENER_CERTIFICATE_DAYS = 1;
const START_WAIT_MS = 30_000;
const STOP_WAIT_MS = 5_000;

export interface AcmeServerPaths {
    readonly dir: string;
    readonly config: string;
    readonly listenerCa: string;
    readonly listenerCaKey: string;
    readonly listenerCertificate: string;
    readonly listenerKey: string;
    readonly pidFile: string;
    readonly log: string;
}

/**
 * The files of a sandbox's ACME server, in a directory of their own: destroying the sandbox removes
 * its runtime directory, and the pid file must outlive that to stop a pebble left running. The
 * ".acme" suffix cannot be part of a sandbox name, so it never clashes with another sandbox's directory.
 */
export function acmeServerPaths(sandboxName: string): AcmeServerPaths {
    const dir = join(RUNTIME_DIR, `${checkedSandboxName(sandboxName)}.acme`);
    return {
        dir,
        config: join(dir, "pebble-config.json"),
        listenerCa: join(dir, "listener-ca.pem"),
        listenerCaKey: join(dir, "listener-ca.key"),
        listenerCertificate: join(dir, "listener.pem"),
        listenerKey: join(dir, "listener.key"),
        pidFile: join(dir, "pebble.pid"),
        log: join(dir, "pebble.log"),
    };
}

export interface AcmeServerUrls {
    /** The ACME directory: certbot's --server. */
    readonly directoryUrl: string;
    /** The root that issued certificates chain to. */
    readonly rootUrl: string;
    /** The intermediate that signs the certificates. */
    readonly intermediateUrl: string;
}

/** The URLs of pebble listening on `hostAddress`. */
export function acmeServerUrls(hostAddress: string): AcmeServerUrls {
    const management = `https://${hostAddress}:${ACME_MANAGEMENT_PORT}`;
    return {
        directoryUrl: `https://${hostAddress}:${ACME_DIRECTORY_PORT}/dir`,
        rootUrl: `${management}/roots/0`,
        intermediateUrl: `${management}/intermediates/0`,
    };
}

/** Pebble's configuration file: both listeners on `hostAddress` with the listener certificate, challenges on the real ports. */
export function pebbleConfig(hostAddress: string, paths: AcmeServerPaths): string {
    const config = {
        pebble: {
            listenAddress: `${hostAddress}:${ACME_DIRECTORY_PORT}`,
            managementListenAddress: `${hostAddress}:${ACME_MANAGEMENT_PORT}`,
            certificate: paths.listenerCertificate,
            privateKey: paths.listenerKey,
            httpPort: CHALLENGE_HTTP_PORT,
            tlsPort: CHALLENGE_TLS_PORT,
            ocspResponderURL: "",
            externalAccountBindingRequired: false,
        },
    };
    return `${JSON.stringify(config, null, 2)}\n`;
}

/** Pebble's arguments: it asks the sandbox's DNS server for the addresses it validates. */
export function pebbleArguments(configFile: string, dnsServer: string): string[] {
    return ["-config", configFile, "-dnsserver", `${dnsServer}:53`];
}

/** A P-256 key made along with the certificate, unencrypted: pebble reads it at start. */
const NEW_EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-noenc"];

/**
 * `openssl` arguments for the listener's CA. Key usage and critical basic constraints are there
 * because Python 3.13's default TLS context (certbot's) verifies chains strictly.
 */
export function listenerCaArguments(paths: AcmeServerPaths): string[] {
    return [
        "req",
        "-x509",
        "-new",
        ...NEW_EC_KEY,
        "-keyout",
        paths.listenerCaKey,
        "-out",
        paths.listenerCa,
        "-days",
        String(LISTENER_CERTIFICATE_DAYS),
        "-subj",
        "/CN=webstack sandbox ACME listener CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ];
}

/** `openssl` arguments for the listener's certificate: for the IP address pebble listens on (clients connect by address), signed by the listener's CA. */
export function listenerCertificateArguments(paths: AcmeServerPaths, hostAddress: string): string[] {
    return [
        "req",
        "-x509",
        "-new",
        ...NEW_EC_KEY,
        "-keyout",
        paths.listenerKey,
        "-out",
        paths.listenerCertificate,
        "-days",
        String(LISTENER_CERTIFICATE_DAYS),
        "-subj",
        `/CN=${hostAddress}`,
        "-CA",
        paths.listenerCa,
        "-CAkey",
        paths.listenerCaKey,
        "-addext",
        `subjectAltName=IP:${hostAddress}`,
        "-addext",
        "basicConstraints=critical,CA:FALSE",
        "-addext",
        "keyUsage=critical,digitalSignature",
        "-addext",
        "extendedKeyUsage=serverAuth",
    ];
}

/** True when a /proc/PID/cmdline text is pebble started with `configFile`: a pid in a stale pid file may belong to another process by now. */
export function isPebbleWithConfig(procCmdline: string, configFile: string): boolean {
    const [command, ...args] = procCmdline.split("\0");
    return basename(command ?? "") === basename(PEBBLE_COMMAND) && args.includes(configFile);
}

/**
 * The root shell script that installs the PEM on its stdin as a trusted CA at `guestPath`, and
 * rebuilds the system bundle only when that changes the file. It prints "changed" or "unchanged".
 */
export function trustCaScript(guestPath: string): string {
    const path = shellQuote(guestPath);
    return [
        'wanted="$(cat)"',
        `if [[ -f ${path} && "$(cat ${path})" == "$wanted" ]]; then`,
        "  echo unchanged",
        "else",
        `  printf '%s\\n' "$wanted" > ${path}`,
        `  chmod 644 ${path}`,
        "  update-ca-certificates >/dev/null",
        "  echo changed",
        "fi",
    ].join("\n");
}

/** A running pebble for a sandbox. */
export interface AcmeServer {
    /** The ACME directory, for the plan's tls.directoryUrl. */
    readonly directoryUrl: string;
    /** The root the issued certificates chain to (PEM); a new one each start. */
    readonly rootCaPem: string;
    /** The intermediate that signs the issued certificates (PEM). */
    readonly intermediatePem: string;
    /** The CA (PEM file on this host) of pebble's own HTTPS listener. */
    readonly listenerCaPath: string;
    /** Stops pebble and removes its files; safe to call twice. */
    stop(): Promise<void>;
}

export interface AcmeServerOptions {
    /** Progress lines. Defaults to console.log. */
    readonly log?: (line: string) => void;
    /**
     * Keep a pebble that already runs for this sandbox: pebble forgets its accounts and root when it
     * stops, so the server's certificate and certbot account stay valid only with the same pebble.
     * Defaults to false (a fresh pebble).
     */
    readonly reuseRunning?: boolean;
}

/** GET over HTTPS trusting `ca` only; resolves with the body of a 200 answer. */
function fetchTrusting(url: string, ca: string): Promise<string> {
    return new Promise((resolve, reject) => {
        const request = https.get(url, { ca, timeout: 5_000 }, (response) => {
            const chunks: Buffer[] = [];
            response.on("data", (chunk: Buffer) => chunks.push(chunk));
            response.on("end", () => {
                const body = Buffer.concat(chunks).toString("utf8");
                if (response.statusCode === 200) {
                    resolve(body);
                } else {
                    reject(new Error(`GET ${url} answered ${response.statusCode}: ${body.slice(0, 200)}`));
                }
            });
        });
        request.on("timeout", () => request.destroy(new Error(`GET ${url} timed out`)));
        request.on("error", reject);
    });
}

function readPid(pidFile: string): number | undefined {
    const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, "utf8").trim()) : NaN;
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

function isOurPebble(pid: number, configFile: string): boolean {
    try {
        return isPebbleWithConfig(readFileSync(`/proc/${pid}/cmdline`, "utf8"), configFile);
    } catch {
        return false;
    }
}

/** Stops the sandbox's pebble if it runs (SIGTERM, then SIGKILL) and removes its files. Stopping what does not run is fine. */
export async function stopAcmeServer(sandboxName: string): Promise<void> {
    const paths = acmeServerPaths(sandboxName);
    const pid = readPid(paths.pidFile);
    if (pid !== undefined && isOurPebble(pid, paths.config)) {
        process.kill(pid, "SIGTERM");
        await pollUntil(async () => (isProcessAlive(pid) ? undefined : true), { timeoutMs: STOP_WAIT_MS, intervalMs: 50 });
        if (isProcessAlive(pid)) {
            process.kill(pid, "SIGKILL");
        }
    }
    rmSync(paths.dir, { recursive: true, force: true });
}

/** Starts pebble in its own session, its output in the log file; returns its pid. */
function launchPebble(paths: AcmeServerPaths, dnsServer: string): number {
    const log = openSync(paths.log, "a");
    try {
        const child = spawn(PEBBLE_COMMAND, pebbleArguments(paths.config, dnsServer), {
            detached: true,
            stdio: ["ignore", log, log],
            env: { ...process.env, ...PEBBLE_ENVIRONMENT },
        });
        if (child.pid === undefined) {
            throw new Error(`Could not start ${PEBBLE_COMMAND}.`);
        }
        child.unref();
        return child.pid;
    } finally {
        closeSync(log);
    }
}

/** Waits until the ACME directory answers; throws with pebble's log when it stops or does not answer in time. */
async function waitForDirectory(pid: number, paths: AcmeServerPaths, urls: AcmeServerUrls, listenerCa: string): Promise<void> {
    let failure = "";
    const answered = await pollUntil(
        () =>
            fetchTrusting(urls.directoryUrl, listenerCa).then(
                () => true,
                (error: Error) => {
                    failure = error.message;
                    return undefined;
                },
            ),
        { timeoutMs: START_WAIT_MS, intervalMs: 100, worthWaiting: () => isProcessAlive(pid) },
    );
    if (answered === undefined) {
        const reason = isProcessAlive(pid) ? `did not answer within ${START_WAIT_MS / 1000} s (${failure})` : "stopped";
        throw new Error(`pebble ${reason}. Its log:\n${tailLines(readFileSync(paths.log, "utf8"))}`);
    }
}

/**
 * Starts pebble for the sandbox on its host-side address (any pebble left from an earlier run of
 * this sandbox is stopped first). Needs the Debian package pebble on the host.
 */
export async function startAcmeServer(sandbox: Sandbox, options: AcmeServerOptions = {}): Promise<AcmeServer> {
    const log = options.log ?? console.log;
    await ensureHostPackages(log, [PEBBLE_PACKAGE]);
    const startedAt = Date.now();
    const paths = acmeServerPaths(sandbox.name);
    const hostAddress = sandbox.dnsServer;
    const urls = acmeServerUrls(hostAddress);
    const running = readPid(paths.pidFile);
    const server = (rootCaPem: string, intermediatePem: string): AcmeServer => ({
        directoryUrl: urls.directoryUrl,
        rootCaPem,
        intermediatePem,
        listenerCaPath: paths.listenerCa,
        stop: () => stopAcmeServer(sandbox.name),
    });
    const fetchRoots = (listenerCa: string) =>
        Promise.all([fetchTrusting(urls.rootUrl, listenerCa), fetchTrusting(urls.intermediateUrl, listenerCa)]);
    if (options.reuseRunning && running !== undefined && isOurPebble(running, paths.config)) {
        log(`reusing the ACME server (pebble) at ${urls.directoryUrl}`);
        return server(...(await fetchRoots(readFileSync(paths.listenerCa, "utf8"))));
    }
    await stopAcmeServer(sandbox.name);
    mkdirSync(paths.dir, { recursive: true, mode: 0o700 });
    try {
        await runCommand("openssl", listenerCaArguments(paths));
        await runCommand("openssl", listenerCertificateArguments(paths, hostAddress));
        writeFileSync(paths.config, pebbleConfig(hostAddress, paths));
        const pid = launchPebble(paths, sandbox.dnsServer);
        writeFileSync(paths.pidFile, `${pid}\n`);
        const listenerCa = readFileSync(paths.listenerCa, "utf8");
        await waitForDirectory(pid, paths, urls, listenerCa);
        const [rootCaPem, intermediatePem] = await fetchRoots(listenerCa);
        log(`ACME server (pebble) at ${urls.directoryUrl}, up in ${secondsSince(startedAt)}`);
        return server(rootCaPem, intermediatePem);
    } catch (error) {
        await stopAcmeServer(sandbox.name);
        throw error;
    }
}

/** Makes the server trust pebble's listener, so that certbot can talk to it. Returns true when it changed the server's trust store. */
export async function trustAcmeServer(sandbox: Sandbox, acme: Pick<AcmeServer, "listenerCaPath">): Promise<boolean> {
    const output = await sshRunAsRoot(sandbox.ssh, trustCaScript(GUEST_LISTENER_CA_PATH), { input: readFileSync(acme.listenerCaPath) });
    return output.trim() === "changed";
}
