import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { pollUntil, runCommand } from "./exec";
import { HOST_LOCK_FILE } from "./layout";

/** The Debian packages the sandbox uses on the host, and the command each provides. */
const HOST_PACKAGES: Readonly<Record<string, string>> = {
    debootstrap: "debootstrap",
    "systemd-container": "systemd-nspawn",
    "dnsmasq-base": "dnsmasq",
    nftables: "nft",
    iproute2: "ip",
    "openssh-client": "ssh",
    openssl: "openssl",
};

/** Why this process cannot run the sandbox, or undefined when it can. */
export function unsupportedHostReason(platform: string, uid: number | undefined): string | undefined {
    if (platform !== "linux") {
        return `The sandbox runs a Debian server with systemd-nspawn, which needs Linux; this is ${platform}. Run it on a Linux machine or in CI.`;
    }
    if (uid !== 0) {
        return "The sandbox needs root: it mounts an overlay, creates a network namespace, veth pair and NAT rules, and boots a container. Run it as root, for example `sudo npm run sandbox`.";
    }
    return undefined;
}

/** Throws a clear error unless this process is root on Linux. */
export function requireRootOnLinux(): void {
    const reason = unsupportedHostReason(process.platform, process.getuid?.());
    if (reason) {
        throw new Error(reason);
    }
}

/** The packages of `wanted` whose `dpkg-query -W -f='${Package} ${Status}\n'` line does not say "install ok installed". */
export function missingPackages(wanted: readonly string[], dpkgStatusOutput: string): string[] {
    const installed = new Set(
        dpkgStatusOutput
            .split("\n")
            .filter((line) => line.endsWith(" install ok installed"))
            .map((line) => line.split(" ")[0].split(":")[0]),
    );
    return wanted.filter((name) => !installed.has(name));
}

/** Installs the host packages that are missing (apt-get update first), printing what it installs. Defaults to the sandbox's own. */
export async function ensureHostPackages(
    log: (line: string) => void,
    wanted: readonly string[] = Object.keys(HOST_PACKAGES),
): Promise<void> {
    const status = await runCommand("dpkg-query", ["-W", "-f=${Package} ${Status}\n", ...wanted], { allowFailure: true });
    const missing = missingPackages(wanted, status.stdout);
    if (missing.length === 0) {
        return;
    }
    log(`installing host packages: ${missing.join(" ")}`);
    const env = { DEBIAN_FRONTEND: "noninteractive" };
    await runCommand("apt-get", ["update"], { env });
    await runCommand("apt-get", ["install", "-y", "--no-install-recommends", ...missing], { env });
}

/** True when a process with this pid exists. */
export function isProcessAlive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch (error) {
        return (error as NodeJS.ErrnoException).code === "EPERM";
    }
}

const LOCK_WAIT_MS = 120_000;

/**
 * Runs `action` while holding the host-wide lock, so that two sandboxes being created or destroyed
 * at once do not pick the same subnet or disagree about the shared NAT table. A lock left by a dead
 * process is taken over.
 */
export async function withHostLock<T>(action: () => Promise<T>): Promise<T> {
    mkdirSync(dirname(HOST_LOCK_FILE), { recursive: true });
    let holder = 0;
    const taken = await pollUntil(
        async () => {
            try {
                const fd = openSync(HOST_LOCK_FILE, "wx");
                writeSync(fd, String(process.pid));
                closeSync(fd);
                return true;
            } catch (error) {
                if ((error as NodeJS.ErrnoException).code !== "EEXIST") {
                    throw error;
                }
                const holderText = readFileSync(HOST_LOCK_FILE, { encoding: "utf8", flag: "a+" }).trim();
                holder = Number(holderText);
                // An empty file is a lock being taken right now: its pid follows in a moment.
                if (holderText !== "" && (!Number.isInteger(holder) || holder <= 0 || !isProcessAlive(holder))) {
                    rmSync(HOST_LOCK_FILE, { force: true });
                }
                return undefined;
            }
        },
        { timeoutMs: LOCK_WAIT_MS, intervalMs: 200 },
    );
    if (taken === undefined) {
        throw new Error(
            `Another sandbox command (pid ${holder}) has held ${HOST_LOCK_FILE} for two minutes; wait for it, or remove the file if that process is stuck.`,
        );
    }
    try {
        return await action();
    } finally {
        rmSync(HOST_LOCK_FILE, { force: true });
    }
}
