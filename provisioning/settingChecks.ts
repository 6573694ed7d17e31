import { cidrFamily } from "./formats";

/**
 * The rules a setting keeps wherever it is checked: by the stack config's reader on the raw value,
 * and by the component that takes it as an argument. One function and one message per rule; the
 * caller names the setting as its user writes it (`webstack:dnsTtl` in the config, `dnsTtl` in code).
 */

/** The bounds of a whole-number setting, with the example a message gives (the owner's default). */
export interface IntegerBounds {
    readonly min: number;
    readonly max: number;
    readonly example: number;
}

/** The problem with a whole number out of its bounds, `shown` as the user wrote it; undefined when it is within them. */
export function wholeNumberProblem(name: string, value: number, bounds: IntegerBounds, shown = String(value)): string | undefined {
    return Number.isInteger(value) && value >= bounds.min && value <= bounds.max
        ? undefined
        : `${name} is ${shown}; expected a whole number from ${bounds.min} to ${bounds.max}, for example ${bounds.example}.`;
}

/** `value`, or an error with {@link wholeNumberProblem}'s message. */
export function checkedWholeNumber(name: string, value: number, bounds: IntegerBounds): number {
    throwIf(wholeNumberProblem(name, value, bounds));
    return value;
}

/** The problem with the items of a list that are not CIDR blocks, all of them named; undefined when every item is one. */
export function cidrsProblem(name: string, cidrs: readonly string[]): string | undefined {
    const invalid = cidrs.filter((cidr) => cidrFamily(cidr) === undefined);
    if (invalid.length === 0) {
        return undefined;
    }
    const which = invalid.length === 1 ? "which is not a CIDR block" : "which are not CIDR blocks";
    return `${name} has ${invalid.map((cidr) => JSON.stringify(cidr)).join(", ")}, ${which}; expected for example 203.0.113.7/32 or 2001:db8::/64.`;
}

/** The problem with a fleet's largest size below its smallest; undefined when it is not. */
export function appServerRangeProblem(names: { min: string; max: string }, min: number, max: number): string | undefined {
    return max < min ? `${names.max} is ${max}, fewer than ${names.min} (${min}); set it to ${min} or more.` : undefined;
}

/** Throws the problem, if there is one. */
export function throwIf(problem: string | undefined): void {
    if (problem !== undefined) {
        throw new Error(problem);
    }
}
