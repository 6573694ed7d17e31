import { spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { isProcessAlive } from "./host";
import { pollUntil } from "./exec";

/** How long a daemon may take to say it listens (its pid file). */
const START_WAIT_MS = 10_000;
const STOP_WAIT_MS = 10_000;

/**
 * A TypeScript daemon of the sandbox's (`node <tsx> SCRIPT CONFIG.json`), started detached so that it
 * outlives the CLI, its output appended to `logFile`. It writes `config` for the daemon, and resolves
 * with the pid once the daemon has written `pidFile`, which it does once it listens.
 */
export async function startDaemon(daemon: {
    readonly script: string;
    readonly config: unknown;
    readonly configFile: string;
    readonly pidFile: string;
    readonly logFile: string;
    /** What it is, for the error when it does not start: "the sandbox's instance metadata service". */
    readonly what: string;
}): Promise<number> {
    writeFileSync(daemon.configFile, JSON.stringify(daemon.config, null, 2), { mode: 0o600 });
    const log = openSync(daemon.logFile, "a");
    try {
        const child = spawn(process.execPath, [require.resolve("tsx/cli"), daemon.script, daemon.configFile], {
            detached: true,
            stdio: ["ignore", log, log],
        });
        child.unref();
        const started = await pollUntil(async () => (existsSync(daemon.pidFile) ? true : undefined), {
            timeoutMs: START_WAIT_MS,
            intervalMs: 100,
            worthWaiting: () => child.exitCode === null,
        });
        if (started === undefined) {
            throw new Error(`${daemon.what} did not start; see ${daemon.logFile}.`);
        }
        return child.pid ?? 0;
    } finally {
        closeSync(log);
    }
}

/** Stops the process whose pid `pidFile` holds, and waits until it is gone; a missing file or a process already gone is fine. */
export async function stopProcessInPidFile(pidFile: string): Promise<void> {
    if (!existsSync(pidFile)) {
        return;
    }
    const pid = Number(readFileSync(pidFile, "utf8").trim());
    if (!Number.isInteger(pid) || pid <= 0 || !isProcessAlive(pid)) {
        return;
    }
    process.kill(pid, "SIGTERM");
    await pollUntil(async () => (isProcessAlive(pid) ? undefined : true), { timeoutMs: STOP_WAIT_MS, intervalMs: 100 });
}
