/**
 * The benchmark's arithmetic, as pure functions: wrk's report read into numbers, a figure set
 * beside its baseline, and the verdict on a target.
 */

export interface WrkResult {
    readonly requests: number;
    readonly requestsPerSecond: number;
    /** Milliseconds. */
    readonly p50: number;
    readonly p99: number;
    readonly non2xx: number;
    readonly socketErrors: number;
}

const UNIT_MS: Readonly<Record<string, number>> = { us: 0.001, ms: 1, s: 1000, m: 60_000 };

function milliseconds(value: string, unit: string): number {
    return Number(value) * (UNIT_MS[unit] ?? NaN);
}

/** Reads `wrk --latency`'s report; throws naming what is missing when it is not one. */
export function parseWrk(report: string): WrkResult {
    const number = (pattern: RegExp, what: string): RegExpExecArray => {
        const match = pattern.exec(report);
        if (match === null) {
            throw new Error(`wrk's report has no ${what}:\n${report}`);
        }
        return match;
    };
    const [, requests] = number(/^\s*(\d+) requests in /m, "request count");
    const [, rps] = number(/^Requests\/sec:\s+([\d.]+)/m, "Requests/sec");
    const [, p50, p50Unit] = number(/^\s*50%\s+([\d.]+)(us|ms|s|m) *$/m, "50% latency (run it with --latency)");
    const [, p99, p99Unit] = number(/^\s*99%\s+([\d.]+)(us|ms|s|m) *$/m, "99% latency");
    const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(report);
    const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(report);
    return {
        requests: Number(requests),
        requestsPerSecond: Number(rps),
        p50: milliseconds(p50, p50Unit),
        p99: milliseconds(p99, p99Unit),
        non2xx: non2xx === null ? 0 : Number(non2xx[1]),
        socketErrors: socket === null ? 0 : socket.slice(1).reduce((sum, count) => sum + Number(count), 0),
    };
}

/** A measured figure beside the baseline it is judged against, and the target. */
export interface Figure {
    readonly name: string;
    readonly value: number;
    readonly unit: string;
    /** The same thing measured without the stack (a minimal nginx, the app reached directly, a bare install), in the same run. */
    readonly baseline?: number;
    /** What the figure must meet: a ratio to the baseline, or a bound on the value. */
    readonly target?: { readonly kind: "ratio-at-least" | "ratio-at-most" | "at-most" | "at-least"; readonly bound: number };
    /** What else a reader needs to judge the figure (counts behind it, a p50), shown beside it. */
    readonly detail?: string;
}

export function ratio(figure: Figure): number | undefined {
    return figure.baseline === undefined || figure.baseline === 0 ? undefined : figure.value / figure.baseline;
}

/** PASS, FAIL, or "-" when the figure has no target. */
export function verdict(figure: Figure): "PASS" | "FAIL" | "-" {
    const target = figure.target;
    if (target === undefined) {
        return "-";
    }
    const measured = target.kind.startsWith("ratio") ? ratio(figure) : figure.value;
    if (measured === undefined) {
        return "FAIL";
    }
    return (target.kind.endsWith("at-least") ? measured >= target.bound : measured <= target.bound) ? "PASS" : "FAIL";
}

function targetText(figure: Figure): string {
    const target = figure.target;
    if (target === undefined) {
        return "";
    }
    const what = target.kind.startsWith("ratio") ? "×" : figure.unit === "" ? "" : ` ${figure.unit}`;
    return `${target.kind.endsWith("at-least") ? "≥" : "≤"} ${target.bound}${what}`;
}

/** The figures as a Markdown table: figure, value, baseline, ratio, target, verdict, detail. */
export function renderTable(figures: readonly Figure[]): string {
    const quantity = (value: number, unit: string) => (unit === "" ? value.toFixed(0) : `${value.toFixed(1)} ${unit}`);
    const rows = figures.map((figure) => {
        const r = ratio(figure);
        const baseline = figure.baseline === undefined ? "" : quantity(figure.baseline, figure.unit);
        return `| ${figure.name} | ${quantity(figure.value, figure.unit)} | ${baseline} | ${r === undefined ? "" : `${r.toFixed(2)}×`} | ${targetText(figure)} | ${verdict(figure)} | ${figure.detail ?? ""} |`;
    });
    return [
        "| figure | value | baseline | ratio | target | verdict | detail |",
        "| --- | --- | --- | --- | --- | --- | --- |",
        ...rows,
    ].join("\n");
}

/** One round of a figure measured beside its baseline, back to back. */
export interface Round {
    readonly value: number;
    readonly baseline: number;
}

/**
 * The round whose ratio is the median (the lower of the two middle ones for an even count): a run
 * here varies by a tenth from one round to the next, and one outlier must not decide a verdict.
 */
export function medianRound<Measured extends Round>(rounds: readonly Measured[]): Measured {
    if (rounds.length === 0) {
        throw new Error("medianRound needs at least one round.");
    }
    const sorted = [...rounds].sort((a, b) => a.value / a.baseline - b.value / b.baseline);
    return sorted[Math.floor((sorted.length - 1) / 2)];
}

/**
 * wrk's Lua for counting answers by status, a 503 with Retry-After apart ("503+retry-after"): each
 * thread counts its own, and the summary prints one `status <kind> <count>` line per kind. Appended
 * to a script that sets the request, or used alone for GETs.
 */
export const WRK_STATUS_COUNTER = [
    "local threads = {}",
    "function setup(thread) table.insert(threads, thread) end",
    "function init(args) counts = {} end",
    "function response(status, headers, body)",
    "  local kind = tostring(status)",
    '  if status == 503 and (headers["Retry-After"] or headers["retry-after"]) then kind = "503+retry-after" end',
    "  counts[kind] = (counts[kind] or 0) + 1",
    "end",
    "function done(summary, latency, requests)",
    "  local total = {}",
    "  for _, thread in ipairs(threads) do",
    '    for kind, count in pairs(thread:get("counts")) do total[kind] = (total[kind] or 0) + count end',
    "  end",
    '  for kind, count in pairs(total) do io.write(string.format("status %s %d\\n", kind, count)) end',
    "end",
].join("\n");

/** The `status <kind> <count>` lines of {@link WRK_STATUS_COUNTER} in a wrk report. */
export function parseStatusCounts(report: string): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const [, kind, count] of report.matchAll(/^status (\S+) (\d+)$/gm)) {
        counts[kind] = Number(count);
    }
    return counts;
}

/** CPU seconds spent by each kind of process (nginx, node, mariadbd, wrk) between two readings. */
export type CpuSeconds = Readonly<Record<string, number>>;

/**
 * Microseconds of CPU per request, by kind of process and in all, from readings before and after a
 * load of `requests`: where a request's cost goes.
 */
export function cpuPerRequest(
    before: CpuSeconds,
    after: CpuSeconds,
    requests: number,
): { total: number; byProcess: Record<string, number> } {
    const byProcess: Record<string, number> = {};
    for (const [kind, seconds] of Object.entries(after)) {
        byProcess[kind] = ((seconds - (before[kind] ?? 0)) / requests) * 1e6;
    }
    return { total: Object.values(byProcess).reduce((sum, micros) => sum + micros, 0), byProcess };
}

/** "nginx 61 µs, node 210 µs": a profile for a figure's detail, the costliest first. */
export function describeCpu(byProcess: Readonly<Record<string, number>>): string {
    return Object.entries(byProcess)
        .sort(([, a], [, b]) => b - a)
        .map(([kind, micros]) => `${kind} ${micros.toFixed(0)} µs`)
        .join(", ");
}

/** A request nginx logged (combined format) with a status other than 2xx or 3xx: when, the status, the request line. */
export interface LoggedFailure {
    readonly time: string;
    readonly status: number;
    readonly request: string;
}

const COMBINED_LOG_LINE = /^\S+ \S+ \S+ \[([^\]]+)\] "([^"]*)" (\d{3}) /gm;

/** The requests of a combined-format access log that did not succeed (status 4xx or 5xx), in order. */
export function loggedFailures(log: string): LoggedFailure[] {
    return [...log.matchAll(COMBINED_LOG_LINE)]
        .map(([, time, request, status]) => ({ time, status: Number(status), request }))
        .filter((entry) => entry.status >= 400);
}

/** The failures as a figure's detail shows them: status, time and request, or "none". */
export function describeLoggedFailures(failures: readonly LoggedFailure[]): string {
    return failures.length === 0 ? "none" : failures.map((entry) => `${entry.status} at ${entry.time} (${entry.request})`).join("; ");
}
