import { readdirSync, readFileSync } from "node:fs";

/** How often the watch reads every process's command line. */
const INTERVAL_MS = 100;

/** The processes of the machine running now: each pid, and its command line (`/proc/<pid>/cmdline`, arguments joined by spaces). */
export function runningProcesses(): { pid: string; commandLine: string }[] {
    return readdirSync("/proc")
        .filter((entry) => /^\d+$/.test(entry))
        .flatMap((pid) => {
            try {
                return [{ pid, commandLine: readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim() }];
            } catch {
                return []; // Gone since the listing.
            }
        });
}

/** The parent of a process (the fourth field of `/proc/<pid>/stat`, after the command in parentheses); undefined once it is gone. */
function parentOf(pid: string): string | undefined {
    try {
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1];
    } catch {
        return undefined;
    }
}

/** Whether `pid` was started, at any depth, by `ancestor`: a process of this run, not another's on the same machine. */
export function descendsFrom(pid: string, ancestor: string): boolean {
    for (let current = parentOf(pid); current !== undefined && current !== "0"; current = parentOf(current)) {
        if (current === ancestor) {
            return true;
        }
    }
    return false;
}

function currentCommandLines(): string[] {
    return runningProcesses()
        .map((process) => process.commandLine)
        .filter((line) => line !== "");
}

/**
 * Watches what every process of the machine shows on its command line (to anyone, through ps), from
 * now until `stop`: each distinct command line seen.
 */
export function watchCommandLines(): { seen(): string[]; stop(): void } {
    const seen = new Set<string>();
    const record = () => currentCommandLines().forEach((line) => seen.add(line));
    record();
    const timer = setInterval(record, INTERVAL_MS);
    timer.unref();
    return { seen: () => [...seen], stop: () => clearInterval(timer) };
}
