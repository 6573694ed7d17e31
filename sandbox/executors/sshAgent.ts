import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pollUntil, runCommand } from "../host/exec";

/**
 * An ssh-agent of the caller's own, holding the keys it is given: what a workstation or a CI job
 * logs in through, so that `pulumi up` needs no private key in the stack's config or state
 * (pulumi-command reads SSH_AUTH_SOCK from the engine's environment as it connects).
 */
export interface SshAgent {
    /** The agent's socket: the SSH_AUTH_SOCK to run the engine with. */
    readonly socket: string;
    stop(): Promise<void>;
}

const START_WAIT_MS = 5_000;

/** Starts `ssh-agent -D` on a socket in a private temporary directory, and adds `identityFiles` to it. */
export async function startSshAgent(identityFiles: readonly string[]): Promise<SshAgent> {
    const directory = mkdtempSync(join(tmpdir(), "webstack-agent-"));
    const socket = join(directory, "agent.sock");
    const agent = spawn("ssh-agent", ["-D", "-a", socket], { stdio: "ignore" });
    const stop = async () => {
        agent.kill();
        rmSync(directory, { recursive: true, force: true });
    };
    try {
        const listening = await pollUntil(async () => (existsSync(socket) ? true : undefined), {
            timeoutMs: START_WAIT_MS,
            intervalMs: 50,
            worthWaiting: () => agent.exitCode === null,
        });
        if (listening === undefined) {
            throw new Error(`ssh-agent did not open ${socket} within ${START_WAIT_MS / 1000} s`);
        }
        for (const identityFile of identityFiles) {
            await runCommand("ssh-add", ["-q", identityFile], { env: { SSH_AUTH_SOCK: socket } });
        }
        return { socket, stop };
    } catch (error) {
        await stop();
        throw error;
    }
}
