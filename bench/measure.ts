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
    const [, p50, p50Unit] = number(/^\s*50%\s+([\d.]+)(us|ms|s|m)$/m, "50% latency (run it with --latency)");
    const [, p99, p99Unit] = number(/^\s*99%\s+([\d.]+)(us|ms|s|m)$/m, "99% latency");
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
