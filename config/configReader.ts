import { type IntegerBounds, wholeNumberProblem } from "../components/settingChecks";

/**
 * How the stack's config is read: key by key, every problem collected rather than the first thrown,
 * each message naming the key, the value and a valid example (config/stackConfig.ts says which keys).
 */

/** Raw config values as `pulumi config` stores them: strings, lists as JSON. */
export type RawStackConfig = Readonly<Record<string, string | undefined>>;

/** A value as a message quotes it. */
export function describeValue(value: string): string {
    return JSON.stringify(value);
}

/** What a value must look like: a pattern, or a check shared with other layers. */
export type Format = RegExp | ((text: string) => boolean);

/** Reads config values one by one and collects every problem instead of stopping at the first. */
export class ConfigReader {
    readonly problems: string[] = [];

    constructor(private readonly raw: RawStackConfig) {}

    string(key: string): string | undefined {
        const value = this.raw[key]?.trim();
        return value === undefined || value === "" ? undefined : value;
    }

    matching(key: string, format: Format, example: string): string | undefined {
        const value = this.string(key);
        if (value !== undefined && !(typeof format === "function" ? format(value) : format.test(value))) {
            this.problems.push(`webstack:${key} is ${describeValue(value)}; expected something like ${example}.`);
            return undefined;
        }
        return value;
    }

    required(key: string, format: Format, example: string, why: string): string | undefined {
        if (this.string(key) === undefined) {
            this.problems.push(`webstack:${key} is missing; ${why} Set it with: pulumi config set webstack:${key} ${example}`);
            return undefined;
        }
        return this.matching(key, format, example);
    }

    boolean(key: string, fallback: boolean): boolean {
        const value = this.string(key);
        if (value === undefined) {
            return fallback;
        }
        if (value !== "true" && value !== "false") {
            this.problems.push(`webstack:${key} is ${describeValue(value)}; expected true or false.`);
            return fallback;
        }
        return value === "true";
    }

    /** A whole number within the bounds, or undefined when unset (or invalid, which is reported). */
    integer(key: string, bounds: IntegerBounds): number | undefined {
        const value = this.string(key);
        if (value === undefined) {
            return undefined;
        }
        // Digits only: Number() would also take "1e2" and "0x10".
        const number = /^\d+$/.test(value) ? Number(value) : NaN;
        const problem = wholeNumberProblem(`webstack:${key}`, number, bounds, describeValue(value));
        if (problem !== undefined) {
            this.problems.push(problem);
            return undefined;
        }
        return number;
    }

    /** A list of at least `minItems` strings, each matching `format`; a problem naming the key and the whole list otherwise. */
    matchingList(key: string, format: RegExp, rule: { minItems: number; expected: string; example: string }): string[] | undefined {
        const list = this.stringList(key, rule.example);
        if (list === undefined) {
            return undefined;
        }
        if (list.length < rule.minItems || !list.every((item) => format.test(item))) {
            this.problems.push(
                `webstack:${key} is ${describeValue(JSON.stringify(list))}; expected ${rule.expected}, for example ${rule.example}.`,
            );
            return undefined;
        }
        return list;
    }

    stringList(key: string, example: string): string[] | undefined {
        const value = this.string(key);
        if (value === undefined) {
            return undefined;
        }
        let parsed: unknown;
        try {
            parsed = JSON.parse(value);
        } catch {
            parsed = undefined;
        }
        if (!Array.isArray(parsed) || !parsed.every((item) => typeof item === "string")) {
            this.problems.push(`webstack:${key} is ${describeValue(value)}; expected a list of strings, for example ${example}.`);
            return undefined;
        }
        return parsed;
    }
}
