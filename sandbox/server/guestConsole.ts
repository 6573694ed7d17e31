import { existsSync, readFileSync } from "node:fs";
import { runCommand, type CommandOptions, type CommandResult } from "../host/exec";
import { sandboxPaths } from "../host/layout";
import { describeSandbox, readState } from "../host/state";

/**
 * The server's console: commands run inside it through this host rather than SSH, the way a serial
 * console or AWS's Session Manager reaches an instance that takes no SSH.
 */

/** The server's init (systemd, PID 1 inside it) among its network namespace's processes, as this host numbers them: the lowest-numbered systemd. */
function guestInitPid(processes: readonly { pid: number; command: string }[]): number | undefined {
    return processes
        .filter((process) => process.command === "systemd")
        .map((process) => process.pid)
        .sort((a, b) => a - b)[0];
}

/**
 * Runs a bash command as root inside the server: nsenter into the namespaces of its init. Throws
 * when the server has no init running.
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
