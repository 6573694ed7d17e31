import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sleep } from "../host/exec";

/**
 * A server's own cgroups, one per hierarchy of the hybrid host: the supervisor moves itself in, so
 * everything the server runs (nspawn, the guest's systemd and services) is inside, and teardown can
 * kill all of it at once even when nspawn did not stop it.
 */

/** Every cgroup directory at or below `cgroup`, deepest first (the order rmdir needs). */
export function cgroupTree(cgroup: string): string[] {
    if (!existsSync(cgroup)) {
        return [];
    }
    const children = readdirSync(cgroup, { withFileTypes: true })
        .filter((entry) => entry.isDirectory())
        .flatMap((entry) => cgroupTree(join(cgroup, entry.name)));
    return [...children, cgroup];
}

/** The pids listed in a cgroup.procs text. */
export function parseCgroupProcs(text: string): number[] {
    return text
        .split("\n")
        .filter((line) => line.trim() !== "")
        .map(Number);
}

function processesIn(cgroups: readonly string[]): number[] {
    return cgroups
        .flatMap((cgroup) => cgroupTree(cgroup))
        .flatMap((directory) => parseCgroupProcs(readFileSync(join(directory, "cgroup.procs"), "utf8")));
}

/** Creates the server's cgroup in each hierarchy. */
export function createCgroups(cgroups: readonly string[]): void {
    for (const cgroup of cgroups) {
        mkdirSync(cgroup, { recursive: true });
    }
}

/**
 * The files and values that hold a v1 memory cgroup to `mib` MiB of memory and no swap, in the order
 * to write them (the kernel refuses a memory+swap limit below the memory limit).
 */
export function memoryLimitFiles(cgroup: string, mib: number): [string, string][] {
    if (!Number.isInteger(mib) || mib < 256) {
        throw new Error(`memory limit is ${mib} MiB; give a whole number of at least 256, for example 1024 (a t3.micro's memory).`);
    }
    const bytes = String(mib * 1024 * 1024);
    return [
        [join(cgroup, "memory.limit_in_bytes"), bytes],
        [join(cgroup, "memory.memsw.limit_in_bytes"), bytes],
    ];
}

/** Holds the server's memory cgroup to `mib` MiB without swap, like an instance with that much memory. */
export function limitMemory(cgroup: string, mib: number): void {
    for (const [file, value] of memoryLimitFiles(cgroup, mib)) {
        if (existsSync(file)) {
            writeFileSync(file, value);
        }
    }
}

/** True when `pid` belongs to the cgroup named `cgroupName` (its /proc/PID/cgroup lists it). */
export function processInCgroup(procCgroupText: string, cgroupName: string): boolean {
    return procCgroupText.split("\n").some((line) => line.split(":").slice(2).join(":").split("/").includes(cgroupName));
}

/**
 * Kills every process left in the cgroups (cgroup.kill where the kernel has it, SIGKILL to each pid
 * otherwise), waits until they are empty, and removes them.
 */
export async function killAndRemoveCgroups(cgroups: readonly string[]): Promise<void> {
    for (let attempt = 0; attempt < 50; attempt++) {
        const remaining = processesIn(cgroups);
        if (remaining.length === 0) {
            break;
        }
        for (const cgroup of cgroups) {
            if (existsSync(join(cgroup, "cgroup.kill"))) {
                writeFileSync(join(cgroup, "cgroup.kill"), "1");
            }
        }
        for (const pid of remaining) {
            try {
                process.kill(pid, "SIGKILL");
            } catch {
                // Already gone.
            }
        }
        await sleep(100);
    }
    const left = processesIn(cgroups);
    if (left.length > 0) {
        throw new Error(
            `Processes ${left.join(", ")} survived SIGKILL in ${cgroups.join(", ")}; check them with ps and try destroy again.`,
        );
    }
    for (const cgroup of cgroups) {
        for (const directory of cgroupTree(cgroup)) {
            rmdirSync(directory);
        }
    }
}
