import { spawn } from "node:child_process";

/** What a finished command printed and how it exited. */
export interface CommandResult {
    readonly stdout: string;
    readonly stderr: string;
    readonly exitCode: number;
}

export interface CommandOptions {
    /** Written to the command's stdin, which is then closed. Defaults to an empty stdin. */
    readonly input?: string | Buffer;
    /** Extra environment variables on top of this process's environment. */
    readonly env?: Readonly<Record<string, string>>;
    /** Return a non-zero exit instead of throwing. Defaults to false. */
    readonly allowFailure?: boolean;
    /** Kill the command (SIGKILL) after this many milliseconds. Defaults to no limit. */
    readonly timeoutMs?: number;
    /** Called with each chunk of stdout and stderr as it arrives, for live progress. */
    readonly onOutput?: (stream: "stdout" | "stderr", chunk: string) => void;
}

/** How many trailing lines of stderr an error message carries. */
const ERROR_TAIL_LINES = 20;

/** The last `count` non-empty lines of a command's output, for an error message. */
export function tailLines(text: string, count: number = ERROR_TAIL_LINES): string {
    return text
        .split("\n")
        .map((line) => line.trimEnd())
        .filter((line) => line !== "")
        .slice(-count)
        .join("\n");
}

/** A command that exited non-zero: the message names it, its exit code and the tail of its stderr. */
export class CommandError extends Error {
    constructor(
        readonly commandLine: string,
        readonly result: CommandResult,
    ) {
        const tail = tailLines(result.stderr) || tailLines(result.stdout);
        super(`\`${commandLine}\` exited with ${result.exitCode}${tail ? `:\n${tail}` : ""}`);
        this.name = "CommandError";
    }
}

/** Runs a command to completion and collects its output; throws {@link CommandError} when it fails. */
export function runCommand(command: string, args: readonly string[], options: CommandOptions = {}): Promise<CommandResult> {
    const commandLine = [command, ...args].join(" ");
    return new Promise((resolve, reject) => {
        const child = spawn(command, args, { env: { ...process.env, ...options.env }, stdio: ["pipe", "pipe", "pipe"] });
        const stdout: Buffer[] = [];
        const stderr: Buffer[] = [];
        const timer = options.timeoutMs === undefined ? undefined : setTimeout(() => child.kill("SIGKILL"), options.timeoutMs);
        child.stdout.on("data", (chunk: Buffer) => {
            stdout.push(chunk);
            options.onOutput?.("stdout", chunk.toString("utf8"));
        });
        child.stderr.on("data", (chunk: Buffer) => {
            stderr.push(chunk);
            options.onOutput?.("stderr", chunk.toString("utf8"));
        });
        // A command that exits without reading all of its stdin is not an error of ours.
        child.stdin.on("error", () => undefined);
        child.on("error", (error: NodeJS.ErrnoException) => {
            clearTimeout(timer);
            reject(error.code === "ENOENT" ? new Error(`${command} is not installed (needed for \`${commandLine}\`).`) : error);
        });
        child.on("close", (code, signal) => {
            clearTimeout(timer);
            const result = {
                stdout: Buffer.concat(stdout).toString("utf8"),
                stderr: Buffer.concat(stderr).toString("utf8") + (signal ? `\nkilled by ${signal}` : ""),
                exitCode: code ?? 128,
            };
            if (result.exitCode !== 0 && !options.allowFailure) {
                reject(new CommandError(commandLine, result));
            } else {
                resolve(result);
            }
        });
        child.stdin.end(options.input ?? "");
    });
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
}

/** How {@link pollUntil} waits: for at most `timeoutMs`, asking every `intervalMs`, and only while `worthWaiting()` (a process it waits on lives). */
export interface PollOptions {
    readonly timeoutMs: number;
    readonly intervalMs: number;
    readonly worthWaiting?: () => boolean;
}

/**
 * Asks `attempt` until it gives a value, and returns it; undefined when the time is up or waiting is
 * no longer worth it. Every wait of the sandbox and the tests goes through it: the caller says what
 * it waits for, and what a wait that ended without it means.
 */
export async function pollUntil<T>(attempt: () => Promise<T | undefined>, options: PollOptions): Promise<T | undefined> {
    const deadline = Date.now() + options.timeoutMs;
    for (;;) {
        const value = await attempt();
        if (value !== undefined) {
            return value;
        }
        if (Date.now() > deadline || options.worthWaiting?.() === false) {
            return undefined;
        }
        await sleep(options.intervalMs);
    }
}

/** Seconds since `startedAt` (from Date.now()), with one decimal, for progress lines. */
export function secondsSince(startedAt: number): string {
    return `${((Date.now() - startedAt) / 1000).toFixed(1)} s`;
}
