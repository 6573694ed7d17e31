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
