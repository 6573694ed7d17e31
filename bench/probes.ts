/**
 * What the benchmark reads off a sandbox server: wrk's figures for a URL (run inside the server, so
 * the sandbox's network is not what is measured), the memory of the stack's processes, the bytes its
 * logs hold, the kernel's out-of-memory order and the restarts and kills under load.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Stack } from "@pulumi/pulumi/automation";
import { SANDBOX_STACK } from "../sandbox/objectStore/aws";
import { existingServerConfig, openEngineStack, sandboxServer } from "../sandbox/executors/engine";
import { ACCESS_LOG_FILE, appInstanceUnit, appPorts, DEFAULT_APP_INSTANCES } from "../provisioning/layout";
import { sandboxPaths } from "../sandbox/host/layout";
import type { Sandbox } from "../sandbox/host/state";
import { sshRunAsRoot } from "../sandbox/host/ssh";
import type { PlanInputs } from "../provisioning";
import { descendsFrom, runningProcesses } from "../test/support/processes";
import { parseStatusCounts, parseWrk, type CpuSeconds, type Figure, type WrkResult } from "./measure";

/** A t3.micro's memory; the server gets no swap either. */
export const SERVER_MEMORY_MIB = 1024;
const WRK_SECONDS = 10;

export const benchLog = (line: string) => console.log(`  ${line}`);

/**
 * Runs `work` with this program as a stack of the real engine that configures `server` as the
 * sandbox's own stack does (existing-server mode); the stack's state lives in a temporary directory,
 * removed after.
 */
export async function withSandboxStack<T>(server: Sandbox, work: (stack: Stack) => Promise<T>): Promise<T> {
    const stateDir = mkdtempSync(join(tmpdir(), "webstack-bench-stack-"));
    try {
        const config = existingServerConfig(sandboxServer(server));
        return await work(await openEngineStack({ stateDir, stackName: SANDBOX_STACK, passphrase: "bench", config }));
    } finally {
        rmSync(stateDir, { recursive: true, force: true });
    }
}

/** What the Pulumi engine runs this program as: the Node.js language host's runner. */
const PROGRAM_COMMAND = "@pulumi/pulumi/cmd/run/index.js";

/** The peak resident memory (the kernel's VmHWM) of every process this bench started that runs this program, in MiB. */
function programPeaksMiB(): number[] {
    return runningProcesses()
        .filter((candidate) => candidate.commandLine.includes(PROGRAM_COMMAND) && descendsFrom(candidate.pid, String(process.pid)))
        .flatMap(({ pid }) => {
            try {
                const peak = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
                return peak === null ? [] : [Number(peak[1]) / 1024];
            } catch {
                return []; // Gone since the listing.
            }
        });
}

/** Runs `work` while watching the program's processes, and returns its result with the highest peak resident memory seen. */
export async function withProgramPeakMiB<T>(work: () => Promise<T>): Promise<{ result: T; peakMiB: number }> {
    let peakMiB = 0;
    const timer = setInterval(() => (peakMiB = Math.max(peakMiB, ...programPeaksMiB())), 100);
    try {
        return { result: await work(), peakMiB };
    } finally {
        clearInterval(timer);
    }
}

/** One benchmark run on one provisioned server: what each scenario reads, and where it puts what it measured. */
export interface BenchRun {
    readonly server: Sandbox;
    /** The site's host name, which nginx serves the app under. */
    readonly www: string;
    readonly inputs: PlanInputs;
    readonly figures: Figure[];
    /** Every load put on the stack, for the log bytes per request. */
    readonly loads: WrkResult[];
}

export async function timed<T>(work: () => Promise<T>): Promise<{ result: T; seconds: number }> {
    const started = Date.now();
    const result = await work();
    return { result, seconds: (Date.now() - started) / 1000 };
}

export function onServer(server: Sandbox, command: string): Promise<string> {
    return sshRunAsRoot(server.ssh, command);
}

export interface WrkOptions {
    readonly connections: number;
    readonly seconds?: number;
    readonly hostHeader?: string;
    readonly script?: string;
}

function wrkCommand(url: string, options: WrkOptions): string {
    const host = options.hostHeader === undefined ? "" : `-H 'Host: ${options.hostHeader}' `;
    const script = options.script === undefined ? "" : `-s ${options.script} `;
    // A crowd of connections needs more descriptors than a login shell's 1024.
    return `ulimit -n "$(ulimit -Hn)" && wrk -t2 -c${options.connections} -d${options.seconds ?? WRK_SECONDS}s --timeout 10s --latency ${host}${script}'${url}'`;
}

export function wrk(server: Sandbox, url: string, options: WrkOptions): Promise<WrkResult> {
    return onServer(server, wrkCommand(url, options)).then(parseWrk);
}

/** wrk with a script that counts answers by status (measure.ts' WRK_STATUS_COUNTER), and those counts. */
export async function wrkCounting(
    server: Sandbox,
    url: string,
    options: WrkOptions & { readonly script: string },
): Promise<{ load: WrkResult; statuses: Record<string, number> }> {
    const report = await onServer(server, wrkCommand(url, options));
    return { load: parseWrk(report), statuses: parseStatusCounts(report) };
}

/** CPU seconds the stack's processes have spent so far, summed by name: nginx, node (the app instances) and mariadbd. */
export async function stackCpuSeconds(server: Sandbox): Promise<CpuSeconds> {
    const lines = await onServer(
        server,
        "for pid in $(pgrep -x 'nginx|node|mariadbd'); do echo \"$(cat /proc/$pid/comm) $(cut -d' ' -f14,15 /proc/$pid/stat 2>/dev/null)\"; done; getconf CLK_TCK",
    );
    const rows = lines.trim().split("\n");
    const ticksPerSecond = Number(rows.pop());
    const seconds: Record<string, number> = {};
    for (const [name, user, system] of rows.map((row) => row.split(" "))) {
        if (system !== undefined) {
            seconds[name] = (seconds[name] ?? 0) + (Number(user) + Number(system)) / ticksPerSecond;
        }
    }
    return seconds;
}

/** Runs wrk for `options.seconds` while `during` runs (after a few seconds of load); returns both. */
export async function wrkDuring<T>(
    server: Sandbox,
    url: string,
    options: WrkOptions,
    during: () => Promise<T>,
): Promise<{ load: WrkResult; result: T }> {
    const load = wrk(server, url, options);
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    const result = await during();
    return { load: await load, result };
}

/** The access log's size in bytes: where the requests of a load about to start begin. */
export async function accessLogBytes(server: Sandbox): Promise<number> {
    return Number((await onServer(server, `stat -c %s ${ACCESS_LOG_FILE}`)).trim());
}

/**
 * The access log's lines from `fromByte` on whose status is 4xx or 5xx, once nginx has flushed its
 * buffer (a second); filtered on the server, so that a load's hundreds of thousands of lines stay there.
 */
export async function accessLogFailuresSince(server: Sandbox, fromByte: number): Promise<string> {
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    return onServer(server, `tail -c +${fromByte + 1} ${ACCESS_LOG_FILE} | awk '$9 ~ /^[45]/'`);
}

/** RSS in MiB of nginx (all processes), each app instance, MariaDB and journald. */
export async function memory(server: Sandbox): Promise<Record<string, number>> {
    const rss = async (command: string) => Number((await onServer(server, command)).trim() || "0") / 1024;
    const usage: Record<string, number> = {
        nginx: await rss("ps -C nginx -o rss= | awk '{ sum += $1 } END { print sum }'"),
        mariadb: await rss("ps -C mariadbd -o rss= | awk '{ sum += $1 } END { print sum }'"),
        journald: await rss("ps -C systemd-journald -o rss= | awk '{ sum += $1 } END { print sum }'"),
    };
    for (const port of appPorts(DEFAULT_APP_INSTANCES)) {
        usage[`app ${port}`] = await rss(`ps -o rss= -p "$(systemctl show -p MainPID --value ${appInstanceUnit(port)})"`);
    }
    return usage;
}

/** Bytes the logs hold now: the access log, nginx's error log and the journal's entries. */
export async function logBytes(server: Sandbox): Promise<number> {
    return Number(
        (
            await onServer(
                server,
                `echo $(( $(cat ${ACCESS_LOG_FILE} /var/log/nginx/*.log | wc -c) + $(journalctl -o export --no-pager | wc -c) ))`,
            )
        ).trim(),
    );
}

/** The processes of the stack that the kernel would choose after MariaDB when memory runs out (higher oom_score goes first). */
export async function oomScores(server: Sandbox): Promise<Record<string, number>> {
    const lines = await onServer(
        server,
        "for pid in $(pgrep -x 'mariadbd|node|nginx|systemd-journal'); do echo \"$(cat /proc/$pid/comm) $(cat /proc/$pid/oom_score)\"; done",
    );
    const scores: Record<string, number> = {};
    for (const [name, score] of lines
        .trim()
        .split("\n")
        .map((line) => line.split(" "))) {
        scores[name] = Math.min(scores[name] ?? Infinity, Number(score));
    }
    return scores;
}

/** Restarts of the stack's units since boot, and kills by the out-of-memory killer in the server's cgroup. */
export async function casualties(server: Sandbox): Promise<{ restarts: number; oomKills: number }> {
    const units = ["nginx", "mariadb", ...appPorts(DEFAULT_APP_INSTANCES).map(appInstanceUnit)];
    const restarts = (await onServer(server, `systemctl show -p NRestarts --value ${units.join(" ")}`)).trim().split("\n").map(Number);
    const oomControl = readFileSync(join(sandboxPaths(server.name).memoryCgroup, "memory.oom_control"), "utf8");
    return { restarts: restarts.reduce((sum, count) => sum + count, 0), oomKills: Number(/^oom_kill (\d+)$/m.exec(oomControl)?.[1] ?? 0) };
}

/**
 * The server's resident memory (its memory cgroup's, page cache left out: the kernel gives cache
 * back under pressure), sampled every half second until stopped; stop() returns the highest in MiB.
 */
export function sampleRss(server: Sandbox): { stop(): number } {
    const stat = join(sandboxPaths(server.name).memoryCgroup, "memory.stat");
    let peak = 0;
    const sample = () => {
        const rss = /^total_rss (\d+)$/m.exec(readFileSync(stat, "utf8"));
        peak = Math.max(peak, Number(rss?.[1] ?? 0) / 1024 / 1024);
    };
    sample();
    const timer = setInterval(sample, 500);
    return {
        stop: () => {
            clearInterval(timer);
            sample();
            return peak;
        },
    };
}

export function failed(result: WrkResult): number {
    return result.non2xx + result.socketErrors;
}
