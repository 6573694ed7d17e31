import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ensureBaseImage, LOGIN_USER } from "./baseImage";
import { createCgroups, killAndRemoveCgroups, limitMemory, processInCgroup } from "./cgroups";
import { DEFAULT_DOMAIN, resolvConfNameservers, validateDomain, startDnsServer, stopDnsServer } from "./dns";
import { pollUntil, runCommand, secondsSince, tailLines, type CommandOptions, type CommandResult } from "./exec";
import { createClientKey, launchSupervisor, nspawnArguments, prepareServerRoot, supervisorScript, type ServerFile } from "./guest";
import { ensureHostPackages, isProcessAlive, requireRootOnLinux, withHostLock } from "./host";
import {
    cgroupName,
    FLEET_DIR_PREFIX,
    FLEET_STATE_FILE,
    guestHostName,
    RUNTIME_DIR,
    sandboxLabel,
    sandboxPaths,
    validateSandboxName,
    type SandboxPaths,
} from "./layout";
import { unmountAllUnder } from "./mounts";
import {
    allocateSubnetIndex,
    namespaceName,
    createNetwork,
    disableEgress,
    enableEgress,
    hostSubnetIndexes,
    removeNetwork,
    sandboxNetwork,
    type SandboxNetwork,
} from "./network";
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
    /** A server on a shared subnet (the fleet sandbox) records its network; a sandbox of its own derives it from subnetIndex. */
    readonly network?: SandboxNetwork;
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
    const network = state.network ?? sandboxNetwork(state.name, state.subnetIndex);
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

/** The names of the fleet sandboxes (fleets) that have state on this host. */
export function listFleets(): string[] {
    return existsSync(RUNTIME_DIR)
        ? readdirSync(RUNTIME_DIR)
              .filter((entry) => entry.startsWith(FLEET_DIR_PREFIX) && existsSync(join(RUNTIME_DIR, entry, FLEET_STATE_FILE)))
              .map((entry) => entry.slice(FLEET_DIR_PREFIX.length))
        : [];
}

/** Whether any sandbox or ha fleet still has state on this host: the NAT table and ip_forward stay until none has. */
function egressInUse(): boolean {
    return listSandboxes().length > 0 || listFleets().length > 0;
}

/** Removes the NAT table and restores ip_forward once no sandbox and no fleet needs them; call it holding the host lock. */
export async function disableEgressWhenUnused(): Promise<void> {
    if (!egressInUse()) {
        await disableEgress();
    }
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
    let lastError = "";
    const answered = await pollUntil(
        async () => {
            const attempt = await sshRun(sandbox.ssh, "true", { allowFailure: true });
            lastError = attempt.stderr.trim();
            return attempt.exitCode === 0 ? true : undefined;
        },
        { timeoutMs: SSH_WAIT_MS, intervalMs: 250, worthWaiting: () => isProcessAlive(supervisorPid) },
    );
    if (answered === undefined) {
        const reason = isProcessAlive(supervisorPid)
            ? `SSH did not answer within ${SSH_WAIT_MS / 1000} s`
            : "the server stopped while booting";
        throw new Error(`Sandbox "${sandbox.name}": ${reason}. Last SSH error: ${lastError}\nConsole:\n${consoleTail(consoleLog)}`);
    }
}

/** The last lines the server wrote to its console, for an error that says why it did not come up. */
function consoleTail(consoleLog: string): string {
    return existsSync(consoleLog) ? tailLines(readFileSync(consoleLog, "utf8")) : "(no console output)";
}

/** The server's init (systemd, PID 1 inside it) among its network namespace's processes, as this host numbers them: the lowest-numbered systemd. */
export function guestInitPid(processes: readonly { pid: number; command: string }[]): number | undefined {
    return processes
        .filter((process) => process.command === "systemd")
        .map((process) => process.pid)
        .sort((a, b) => a - b)[0];
}

/**
 * Runs a bash command as root inside the server, through this host rather than SSH (the way a
 * serial console or AWS's Session Manager reaches an instance that takes no SSH): nsenter into the
 * namespaces of its init. Throws when the server has no init running.
 */
export async function runInGuest(name: string, command: string, options: CommandOptions = {}): Promise<CommandResult> {
    const state = readState(name);
    const netns = state && describeSandbox(state, sandboxPaths(name)).network.netns;
    const pids = netns === undefined ? "" : (await runCommand("ip", ["netns", "pids", netns], { allowFailure: true })).stdout;
    const processes = pids
        .split("\n")
        .filter((pid) => /^\d+$/.test(pid))
        .map((pid) => ({
            pid: Number(pid),
            command: existsSync(`/proc/${pid}/comm`) ? readFileSync(`/proc/${pid}/comm`, "utf8").trim() : "",
        }));
    const init = guestInitPid(processes);
    if (init === undefined) {
        throw new Error(`Sandbox "${name}" has no running server to enter.`);
    }
    return runCommand("nsenter", ["--target", String(init), "--all", "--", "bash", "-c", command], options);
}

/**
 * What a server that takes no SSH runs, through its console, to tell that it is up: once cloud-init
 * has finished (when the server has it), systemd's state at that moment. Boot jobs that start after
 * cloud-init (a package's first-run timer, say) do not hold the server back; without cloud-init,
 * systemd's own end of boot.
 */
export const BOOTED_THROUGH_CONSOLE_COMMAND =
    "if command -v cloud-init >/dev/null; then cloud-init status --wait >/dev/null || true; systemctl is-system-running; else systemctl is-system-running --wait; fi";

/** Waits, through the console, until a server that takes no SSH is up ({@link BOOTED_THROUGH_CONSOLE_COMMAND}). */
async function waitForBootThroughConsole(
    sandbox: Sandbox,
    consoleLog: string,
    supervisorPid: number,
    log: (line: string) => void,
): Promise<void> {
    let state: string | undefined;
    const booted = await pollUntil(
        async () => {
            const attempt = await runInGuest(sandbox.name, BOOTED_THROUGH_CONSOLE_COMMAND, {
                allowFailure: true,
                timeoutMs: SYSTEM_RUNNING_WAIT_MS,
            }).catch(() => undefined);
            state = attempt?.stdout.trim();
            return state === "running" || state === "degraded" || state === "starting" ? state : undefined;
        },
        { timeoutMs: SYSTEM_RUNNING_WAIT_MS, intervalMs: 250, worthWaiting: () => isProcessAlive(supervisorPid) },
    );
    if (booted === undefined) {
        throw new Error(
            `Sandbox "${sandbox.name}": the server did not finish booting (systemd says "${state ?? "nothing"}").\nConsole:\n${consoleTail(consoleLog)}`,
        );
    }
    if (booted === "degraded") {
        const failed = await runInGuest(sandbox.name, "systemctl --failed --plain --no-legend --no-pager", { allowFailure: true });
        log(`${sandbox.name}: up but degraded; failed units:\n${failed.stdout.trim()}`);
    }
}

/** Waits until systemd in the guest has finished booting; "degraded" is accepted with a list of the failed units. */
async function waitForSystemRunning(sandbox: Sandbox, log: (line: string) => void): Promise<void> {
    const result = await sshRun(sandbox.ssh, "systemctl is-system-running --wait", {
        allowFailure: true,
        timeoutMs: SYSTEM_RUNNING_WAIT_MS,
    });
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

async function bootNewSandbox(
    name: string,
    domain: string,
    memoryLimitMiB: number | undefined,
    log: (line: string) => void,
): Promise<Sandbox> {
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
    return bootServer(state, { lowerDirs: [baseImage], memoryLimitMiB }, log);
}

/** What a server is booted from besides its identity: its image's layers and its own files. */
export interface ServerImage {
    /** Topmost first, the base image last. */
    readonly lowerDirs: readonly string[];
    readonly extraFiles?: readonly ServerFile[];
    readonly chrootCommands?: readonly string[][];
    readonly memoryLimitMiB?: number;
    /** The server closes SSH as it boots (a fleet's app server, as on AWS): the boot is watched through the console instead. */
    readonly sshClosed?: boolean;
}

/** Boots the server of a recorded sandbox whose network exists: its root, its cgroups, its supervisor; waits until systemd is up. */
async function bootServer(state: SandboxState, image: ServerImage, log: (line: string) => void): Promise<Sandbox> {
    const { name } = state;
    const paths = sandboxPaths(name);
    const sandbox = describeSandbox(state, paths);
    const clientPublicKey = await createClientKey(paths.clientKey, sandboxLabel(name));
    const knownHosts = await prepareServerRoot({
        lowerDirs: image.lowerDirs,
        upperDir: paths.upperDir,
        workDir: paths.workDir,
        rootDir: paths.rootDir,
        hostName: guestHostName(name),
        network: sandbox.network,
        clientPublicKey,
        extraFiles: image.extraFiles,
        chrootCommands: image.chrootCommands,
    });
    writeFileSync(paths.knownHosts, knownHosts);
    createCgroups(paths.cgroups);
    if (image.memoryLimitMiB !== undefined) {
        limitMemory(paths.memoryCgroup, image.memoryLimitMiB);
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
    if (image.sshClosed) {
        await waitForBootThroughConsole(sandbox, paths.consoleLog, supervisorPid, log);
    } else {
        await waitForSsh(sandbox, paths.consoleLog, supervisorPid);
        log(`${name}: SSH answered ${secondsSince(bootStartedAt)} after boot started`);
        await waitForSystemRunning(sandbox, log);
    }
    log(`${name}: booted in ${secondsSince(bootStartedAt)}`);
    return sandbox;
}

/**
 * Boots one server of a shared subnet (the fleet sandbox) at `network`, whose bridge exists: its veth
 * pair, root and supervisor. Anything left of a server of that name is removed first; a failed boot
 * leaves nothing behind.
 */
export async function startSubnetMember(options: {
    name: string;
    domain: string;
    network: SandboxNetwork;
    image: ServerImage;
    log: (line: string) => void;
}): Promise<Sandbox> {
    const name = validateSandboxName(options.name);
    await destroySandbox(name, () => undefined);
    const state: SandboxState = {
        name,
        subnetIndex: options.network.subnetIndex,
        domain: options.domain,
        createdAt: new Date().toISOString(),
        network: options.network,
    };
    try {
        writeState(state);
        await createNetwork(options.network);
        return await bootServer(state, options.image, options.log);
    } catch (error) {
        await destroySandbox(name, () => undefined);
        throw error;
    }
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
            throw new Error(
                `Sandbox "${name}" is running for domain ${existing.domain}, not ${domain}; destroy it first (npm run sandbox -- destroy).`,
            );
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
    await pollUntil(async () => (isProcessAlive(pid) ? undefined : true), { timeoutMs: SUPERVISOR_STOP_WAIT_MS, intervalMs: 100 });
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
    const exists =
        state !== undefined || existsSync(paths.runtime) || existsSync(paths.data) || paths.cgroups.some((cgroup) => existsSync(cgroup));
    if (state) {
        await stopSupervisor(state);
    }
    await killAndRemoveCgroups(paths.cgroups);
    await stopDnsServer(paths.dnsmasqPidFile);
    await unmountAllUnder(paths.rootDir);
    rmSync(paths.data, { recursive: true, force: true });
    if (state) {
        await removeNetwork(state.network ?? sandboxNetwork(name, state.subnetIndex));
    } else {
        await runCommand("ip", ["netns", "delete", namespaceName(name)], { allowFailure: true });
    }
    await withHostLock(async () => {
        rmSync(paths.runtime, { recursive: true, force: true });
        await disableEgressWhenUnused();
    });
    if (exists) {
        log(`sandbox "${name}" destroyed`);
    }
    return exists;
}
