import { cidrsProblem, type IntegerBounds, wholeNumberProblem } from "../provisioning/settingChecks";

/**
 * How settings are read, the stack's config (config/stackConfig.ts) and a release's environment
 * (release/databaseSettings.ts) alike: key by key, every problem collected rather than the first
 * thrown, each message naming the key, the value and a valid example.
 */

/** Raw values as their source holds them: strings, lists as JSON. */
export type RawConfig = Readonly<Record<string, string | undefined>>;

/** A value as a message quotes it. */
export function describeValue(value: string): string {
    return JSON.stringify(value);
}

/** What a value must look like: a pattern, or a check shared with other layers. */
export type Format = RegExp | ((text: string) => boolean);

/** Where the values come from: how a message names a key, and how a user sets one. */
export interface ConfigSource {
    readonly name: (key: string) => string;
    readonly howToSet: (key: string, example: string) => string;
}

/** The stack's config, in the `webstack` namespace. */
export const STACK_CONFIG: ConfigSource = {
    name: (key) => `webstack:${key}`,
    howToSet: (key, example) => `pulumi config set webstack:${key} ${example}`,
};

/** A process's environment variables. */
export const ENVIRONMENT: ConfigSource = {
    name: (key) => key,
    howToSet: (key, example) => `${key}=${example}`,
};

/** Thrown for every invalid value; all problems are reported at once. */
export class ConfigError extends Error {
    constructor(readonly problems: readonly string[]) {
        super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join("\n")}`);
        this.name = "ConfigError";
    }
}

/** Reads values one by one and collects every problem instead of stopping at the first. */
export class ConfigReader {
    readonly problems: string[] = [];

    constructor(
        private readonly raw: RawConfig,
        private readonly source: ConfigSource,
    ) {}

    /** The trimmed value, or undefined when unset or blank. */
    string(key: string): string | undefined {
        const value = this.raw[key]?.trim();
        return value === undefined || value === "" ? undefined : value;
    }

    matching(key: string, format: Format, example: string): string | undefined {
        const value = this.string(key);
        if (value !== undefined && !(typeof format === "function" ? format(value) : format.test(value))) {
            this.problems.push(`${this.source.name(key)} is ${describeValue(value)}; expected something like ${example}.`);
            return undefined;
        }
        return value;
    }

    /** The value, unless `problemOf` finds one: then a problem that puts the key before it (`webstack:x is 151 characters long; …`). */
    satisfying(key: string, problemOf: (text: string) => string | undefined): string | undefined {
        const value = this.string(key);
        const problem = value === undefined ? undefined : problemOf(value);
        if (problem !== undefined) {
            this.problems.push(`${this.source.name(key)} ${problem}.`);
            return undefined;
        }
        return value;
    }

    required(key: string, format: Format, example: string, why: string): string | undefined {
        return this.isSet(key, example, why) ? this.matching(key, format, example) : undefined;
    }

    boolean(key: string, fallback: boolean): boolean {
        const value = this.string(key);
        if (value === undefined) {
            return fallback;
        }
        if (value !== "true" && value !== "false") {
            this.problems.push(`${this.source.name(key)} is ${describeValue(value)}; expected true or false.`);
            return fallback;
        }
        return value === "true";
    }

    /** A whole number within the bounds; undefined when unset (a problem too when `required` says why it must be set) or invalid. */
    integer(key: string, bounds: IntegerBounds, required?: string): number | undefined {
        const value = this.string(key);
        if (value === undefined) {
            if (required !== undefined) {
                this.isSet(key, String(bounds.example), required);
            }
            return undefined;
        }
        // Digits only: Number() would also take "1e2" and "0x10".
        const number = /^\d+$/.test(value) ? Number(value) : NaN;
        const problem = wholeNumberProblem(this.source.name(key), number, bounds, describeValue(value));
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
                `${this.source.name(key)} is ${describeValue(JSON.stringify(list))}; expected ${rule.expected}, for example ${rule.example}.`,
            );
            return undefined;
        }
        return list;
    }

    /** A list of CIDR blocks, IPv4 or IPv6; one problem naming every item that is not a block. */
    cidrList(key: string, example: string): string[] | undefined {
        const cidrs = this.stringList(key, example);
        const problem = cidrs === undefined ? undefined : cidrsProblem(this.source.name(key), cidrs);
        if (problem !== undefined) {
            this.problems.push(problem);
            return undefined;
        }
        return cidrs;
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
            this.problems.push(`${this.source.name(key)} is ${describeValue(value)}; expected a list of strings, for example ${example}.`);
            return undefined;
        }
        return parsed;
    }

    /** `value`, unless a problem was found on the way: then a {@link ConfigError} that lists them all. */
    checked<T>(value: T): T {
        if (this.problems.length > 0) {
            throw new ConfigError(this.problems);
        }
        return value;
    }

    /** Whether the key is set; a problem saying why it must be, and how to set it, when not. */
    private isSet(key: string, example: string, why: string): boolean {
        if (this.string(key) !== undefined) {
            return true;
        }
        this.problems.push(`${this.source.name(key)} is missing; ${why} Set it with: ${this.source.howToSet(key, example)}`);
        return false;
    }
}
