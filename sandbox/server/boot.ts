import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createCgroups, limitMemory } from "./cgroups";
import { pollUntil, secondsSince, tailLines } from "../host/exec";
import { createClientKey, launchSupervisor, nspawnArguments, prepareServerRoot, supervisorScript, type ServerFile } from "./guest";
import { runInGuest } from "./guestConsole";
import { isProcessAlive } from "../host/host";
import { guestHostName, sandboxLabel, sandboxPaths } from "../host/layout";
import { sshRun } from "../host/ssh";
import { describeSandbox, writeState, type Sandbox, type SandboxState } from "../host/state";

/**
 * Booting a recorded sandbox's server under its supervisor, and waiting until it is up: through
 * SSH, or through the console for a server that takes no SSH. A boot that fails says why, with the
 * last lines of the server's console.
 */

const SSH_WAIT_MS = 60_000;
const SYSTEM_RUNNING_WAIT_MS = 180_000;

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
export async function bootServer(state: SandboxState, image: ServerImage, log: (line: string) => void): Promise<Sandbox> {
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

/** Waits until the server answers SSH; throws, with the console's tail, when it does not in time or its supervisor dies first. */
export async function waitForSsh(sandbox: Sandbox, consoleLog: string, supervisorPid: number): Promise<void> {
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

/**
 * What a server that takes no SSH runs, through its console, to tell that it is up: once cloud-init
 * has finished (when the server has it), systemd's state at that moment. Boot jobs that start after
 * cloud-init (a package's first-run timer, say) do not hold the server back; without cloud-init,
 * systemd's own end of boot.
 */
const BOOTED_THROUGH_CONSOLE_COMMAND =
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
