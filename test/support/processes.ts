import { readdirSync, readFileSync } from "node:fs";

/** How often the watch reads every process's command line. */
const INTERVAL_MS = 100;

/** The command lines of the processes running now (`/proc/<pid>/cmdline`, arguments joined by spaces). */
function currentCommandLines(): string[] {
    return readdirSync("/proc")
        .filter((entry) => /^\d+$/.test(entry))
        .flatMap((pid) => {
            try {
                return [readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ").trim()];
            } catch {
                return []; // Gone since the listing.
            }
        })
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
