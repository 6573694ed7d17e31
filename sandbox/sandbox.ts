import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ensureBaseImage, LOGIN_USER } from "./baseImage";
import { createCgroups, killAndRemoveCgroups, limitMemory, processInCgroup } from "./cgroups";
import { DEFAULT_DOMAIN, resolvConfNameservers, validateDomain, startDnsServer, stopDnsServer } from "./dns";
import { runCommand, secondsSince, sleep, tailLines } from "./exec";
import { createClientKey, launchSupervisor, nspawnArguments, prepareServerRoot, supervisorScript } from "./guest";
import { ensureHostPackages, isProcessAlive, requireRootOnLinux, withHostLock } from "./host";
import { cgroupName, guestHostName, RUNTIME_DIR, sandboxPaths, validateSandboxName, type SandboxPaths } from "./layout";
import { unmountAllUnder } from "./mounts";
import { allocateSubnetIndex, namespaceName, createNetwork, disableEgress, enableEgress, hostSubnetIndexes, removeNetwork, sandboxNetwork, type SandboxNetwork } from "./network";
import { sshRun, type SshTarget } from "./ssh";

/**
 * One sandbox: a Debian server booted with systemd-nspawn in a network namespace of its own, its
 * DNS server, and the host's NAT for its apt. Start, find and destroy sandboxes by name; several
 * can run at once.
 */

/** What is recorded about a sandbox while it exists (state.json in its runtime directory). */
export interface SandboxState {
    readonly name: string;
    readonly subnetIndex: number;
    readonly domain: string;
    readonly supervisorPid?: number;
    readonly createdAt: string;
}

/** How to reach a running sandbox. */
export interface Sandbox {
    readonly name: string;
    readonly domain: string;
    readonly network: SandboxNetwork;
    /** The server's address. */
    readonly address: string;
    /** The sandbox's DNS server (its Route53): answers www.<domain> and <domain>. */
    readonly dnsServer: string;
    /** SSH as the login user, with the pinned host keys and the sandbox's client key. */
    readonly ssh: SshTarget;
}

export interface StartOptions {
    /** Defaults to "default". */
    readonly name?: string;
    /** The apex domain the sandbox's DNS answers for. Defaults to webstack.test. */
    readonly domain?: string;
    /** Progress lines. Defaults to console.log. */
    readonly log?: (line: string) => void;
    /** Hold the server to this much memory, without swap, as on an instance of that size (1024 for a t3.micro). Defaults to the host's. */
    readonly memoryLimitMiB?: number;
}

export interface StartResult extends Sandbox {
    /** True when a running sandbox of that name was reused rather than booted. */
    readonly reused: boolean;
}

const SSH_WAIT_MS = 60_000;
const SYSTEM_RUNNING_WAIT_MS = 180_000;
const SUPERVISOR_STOP_WAIT_MS = 20_000;

/** The sandbox as seen from outside, from its state. */
export function describeSandbox(state: SandboxState, paths: SandboxPaths): Sandbox {
    const network = sandboxNetwork(state.name, state.subnetIndex);
    return {
        name: state.name,
        domain: state.domain,
        network,
        address: network.guestAddress,
        dnsServer: network.hostAddress,
        ssh: { host: network.guestAddress, user: LOGIN_USER, identityFile: paths.clientKey, knownHostsFile: paths.knownHosts },
    };
}

/** The state of the sandbox `name`, or undefined when there is none. */
export function readState(name: string): SandboxState | undefined {
    const { stateFile } = sandboxPaths(name);
    return existsSync(stateFile) ? (JSON.parse(readFileSync(stateFile, "utf8")) as SandboxState) : undefined;
}

function writeState(state: SandboxState): void {
    const paths = sandboxPaths(state.name);
    mkdirSync(paths.runtime, { recursive: true, mode: 0o700 });
    writeFileSync(paths.stateFile, `${JSON.stringify(state, null, 2)}\n`);
}

/** The names of all sandboxes that have state on this host. */
export function listSandboxes(): string[] {
    if (!existsSync(RUNTIME_DIR)) {
        return [];
    }
    return readdirSync(RUNTIME_DIR).filter((entry) => existsSync(join(RUNTIME_DIR, entry, "state.json")));
}

/** True when the sandbox's supervisor is alive (checked through its cgroup, so a reused pid does not count). */
export function isSandboxRunning(state: SandboxState): boolean {
    const pid = state.supervisorPid;
    if (pid === undefined || !isProcessAlive(pid)) {
        return false;
    }
    try {
        return processInCgroup(readFileSync(`/proc/${pid}/cgroup`, "utf8"), cgroupName(state.name));
    } catch {
        return false;
    }
}

async function waitForSsh(sandbox: Sandbox, consoleLog: string, supervisorPid: number): Promise<void> {
    const deadline = Date.now() + SSH_WAIT_MS;
    for (;;) {
        const attempt = await sshRun(sandbox.ssh, "true", { allowFailure: true });
        if (attempt.exitCode === 0) {
            return;
        }
        if (!isProcessAlive(supervisorPid) || Date.now() > deadline) {
            const reason = isProcessAlive(supervisorPid) ? `SSH did not answer within ${SSH_WAIT_MS / 1000} s` : "the server stopped while booting";
            const guestConsole = existsSync(consoleLog) ? tailLines(readFileSync(consoleLog, "utf8")) : "(no console output)";
            throw new Error(`Sandbox "${sandbox.name}": ${reason}. Last SSH error: ${attempt.stderr.trim()}\nConsole:\n${guestConsole}`);
        }
        await sleep(250);
    }
}

/** Waits until systemd in the guest has finished booting; "degraded" is accepted with a list of the failed units. */
async function waitForSystemRunning(sandbox: Sandbox, log: (line: string) => void): Promise<void> {
    const result = await sshRun(sandbox.ssh, "systemctl is-system-running --wait", { allowFailure: true, timeoutMs: SYSTEM_RUNNING_WAIT_MS });
    const state = result.stdout.trim();
    if (state === "running") {
        return;
    }
    if (state === "degraded") {
        const failed = await sshRun(sandbox.ssh, "systemctl --failed --plain --no-legend --no-pager", { allowFailure: true });
        log(`server is up but degraded; failed units:\n${failed.stdout.trim()}`);
        return;
    }
    throw new Error(`Sandbox "${sandbox.name}": systemd in the server reports "${state || result.stderr.trim()}" instead of running.`);
}

async function bootNewSandbox(name: string, domain: string, memoryLimitMiB: number | undefined, log: (line: string) => void): Promise<Sandbox> {
    const paths = sandboxPaths(name);
    const baseImage = await ensureBaseImage(log);
    const state: SandboxState = await withHostLock(async () => {
        const taken = [...listSandboxes().map((other) => readState(other)?.subnetIndex ?? 0), ...(await hostSubnetIndexes())];
        const allocated: SandboxState = { name, subnetIndex: allocateSubnetIndex(taken), domain, createdAt: new Date().toISOString() };
        // Recorded before anything is made, so that a failure half-way can be torn down.
        writeState(allocated);
        const network = sandboxNetwork(name, allocated.subnetIndex);
        await createNetwork(network);
        await enableEgress();
        await startDnsServer(paths.dnsmasqConfig, {
            domain,
            listenAddress: network.hostAddress,
            serverAddress: network.guestAddress,
            upstreamResolvers: resolvConfNameservers(readFileSync("/etc/resolv.conf", "utf8")),
            pidFile: paths.dnsmasqPidFile,
            logFile: paths.dnsmasqLog,
        });
        return allocated;
    });
    const sandbox = describeSandbox(state, paths);
    const clientPublicKey = await createClientKey(paths.clientKey, `webstack-sandbox-${name}`);
    const knownHosts = await prepareServerRoot({
        baseImage,
        upperDir: paths.upperDir,
        workDir: paths.workDir,
        rootDir: paths.rootDir,
        hostName: guestHostName(name),
        network: sandbox.network,
        clientPublicKey,
    });
    writeFileSync(paths.knownHosts, knownHosts);
    createCgroups(paths.cgroups);
    if (memoryLimitMiB !== undefined) {
        limitMemory(paths.memoryCgroup, memoryLimitMiB);
    }
    writeFileSync(
        paths.supervisorScript,
        supervisorScript({
            sandboxName: name,
            cgroups: paths.cgroups,
            nspawnArguments: nspawnArguments({ rootDir: paths.rootDir, hostName: guestHostName(name), netns: sandbox.network.netns }),
        }),
    );
    const bootStartedAt = Date.now();
    const supervisorPid = launchSupervisor(paths.supervisorScript, paths.consoleLog);
    writeState({ ...state, supervisorPid });
    await waitForSsh(sandbox, paths.consoleLog, supervisorPid);
    log(`SSH answered ${secondsSince(bootStartedAt)} after boot started`);
    await waitForSystemRunning(sandbox, log);
    log(`server booted in ${secondsSince(bootStartedAt)}`);
    return sandbox;
}

/**
 * Boots the sandbox `name`, or reuses it when it is running already. Anything left of a sandbox of
 * that name that is not running (a crashed server, a host reboot) is torn down first. A failed
 * boot leaves nothing behind.
 */
export async function startSandbox(options: StartOptions = {}): Promise<StartResult> {
    const name = validateSandboxName(options.name ?? "default");
    const domain = validateDomain(options.domain ?? DEFAULT_DOMAIN);
    const log = options.log ?? console.log;
    requireRootOnLinux();
    await ensureHostPackages(log);
    const existing = readState(name);
    if (existing && isSandboxRunning(existing)) {
        if (existing.domain !== domain) {
            throw new Error(`Sandbox "${name}" is running for domain ${existing.domain}, not ${domain}; destroy it first (npm run sandbox -- destroy).`);
        }
        const sandbox = describeSandbox(existing, sandboxPaths(name));
        await waitForSsh(sandbox, sandboxPaths(name).consoleLog, existing.supervisorPid ?? 0);
        return { ...sandbox, reused: true };
    }
    if (existing || existsSync(sandboxPaths(name).runtime) || existsSync(sandboxPaths(name).data)) {
        log(`removing what is left of sandbox "${name}"`);
        await destroySandbox(name, log);
    }
    try {
        return { ...(await bootNewSandbox(name, domain, options.memoryLimitMiB, log)), reused: false };
    } catch (error) {
        await destroySandbox(name, () => undefined);
        throw error;
    }
}

async function stopSupervisor(state: SandboxState): Promise<void> {
    const pid = state.supervisorPid;
    if (pid === undefined || !isSandboxRunning(state)) {
        return;
    }
    process.kill(pid, "SIGTERM");
    const deadline = Date.now() + SUPERVISOR_STOP_WAIT_MS;
    while (isProcessAlive(pid) && Date.now() < deadline) {
        await sleep(100);
    }
}

/**
 * Removes everything the sandbox `name` made: the server (powered off, then whatever is left is
 * killed), its cgroups, overlay and disk, its DNS server, network namespace and veth pair; and the
 * NAT table and ip_forward setting when no other sandbox remains. Destroying what does not exist
 * is fine. Returns false when there was nothing to destroy.
 */
export async function destroySandbox(name: string, log: (line: string) => void = console.log): Promise<boolean> {
    requireRootOnLinux();
    const paths = sandboxPaths(name);
    const state = readState(name);
    const exists = state !== undefined || existsSync(paths.runtime) || existsSync(paths.data) || paths.cgroups.some((cgroup) => existsSync(cgroup));
    if (state) {
        await stopSupervisor(state);
    }
    await killAndRemoveCgroups(paths.cgroups);
    await stopDnsServer(paths.dnsmasqPidFile);
    await unmountAllUnder(paths.rootDir);
    rmSync(paths.data, { recursive: true, force: true });
    if (state) {
        await removeNetwork(sandboxNetwork(name, state.subnetIndex));
    } else {
        await runCommand("ip", ["netns", "delete", namespaceName(name)], { allowFailure: true });
    }
    await withHostLock(async () => {
        rmSync(paths.runtime, { recursive: true, force: true });
        if (listSandboxes().length === 0) {
            await disableEgress();
        }
    });
    if (exists) {
        log(`sandbox "${name}" destroyed`);
    }
    return exists;
}
