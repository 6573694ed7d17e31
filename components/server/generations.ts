/**
 * Server generations: the site's server is numbered, and the config lists the servers the stack
 * keeps, the one that serves first (`serverGenerations`, for example `2,1`). A new number first in
 * the list is a new server that the site moves to under load; an earlier number first again moves the
 * site back (docs/replacement.md). Everything an update does with them follows from the list alone,
 * so that `pulumi preview` shows it by name.
 */

/** At most this many servers besides the one that serves stay, stopped. */
export const MAX_KEPT_SERVERS = 2;
const GENERATION_BOUNDS = { min: 1, max: 999 } as const;
export const DEFAULT_SERVER_GENERATIONS = [1] as const;

/**
 * A move of the site between two servers: to a new server (`follow`: its database copies the old
 * one's first), or back to a server the site left (`rejoin`: it catches up from its own last
 * transaction). A new server always gets a higher number than the one it takes over from.
 */
export interface Move {
    readonly from: number;
    readonly to: number;
    readonly how: "follow" | "rejoin";
}

/** What the list says of each server. */
export interface GenerationRoles {
    readonly serving: number;
    /** The move the list asks for: from the second server to the first. */
    readonly move?: Move;
    /** The servers kept, stopped, the one the site moves from first. */
    readonly kept: readonly number[];
}

/** What is wrong with a `serverGenerations` text, or undefined when it is a list of servers. */
export function serverGenerationsProblem(text: string): string | undefined {
    const items = text.split(",").map((item) => item.trim());
    const numbers = items.map(Number);
    const expected = `expected the servers' generations, the one that serves first, each a whole number from ${GENERATION_BOUNDS.min} to ${GENERATION_BOUNDS.max}, for example "2,1"`;
    if (
        !items.every(
            (item, index) => /^[0-9]+$/.test(item) && numbers[index] >= GENERATION_BOUNDS.min && numbers[index] <= GENERATION_BOUNDS.max,
        )
    ) {
        return `is ${JSON.stringify(text)}; ${expected}`;
    }
    if (new Set(numbers).size !== numbers.length) {
        return `is ${JSON.stringify(text)}, which names a server twice; ${expected}`;
    }
    if (numbers.length > MAX_KEPT_SERVERS + 1) {
        return `is ${JSON.stringify(text)}, ${numbers.length} servers; at most ${MAX_KEPT_SERVERS} are kept besides the one that serves. Drop the oldest from the end: it is deleted`;
    }
    return undefined;
}

/** The generations of a valid `serverGenerations` text ({@link serverGenerationsProblem}), the one that serves first. */
export function parseServerGenerations(text: string): number[] {
    return text.split(",").map((item) => Number(item.trim()));
}

/** Who serves, what moves and what is kept, from the list of generations. */
export function generationRoles(generations: readonly number[]): GenerationRoles {
    const [serving, movingFrom, ...rest] = generations;
    if (movingFrom === undefined) {
        return { serving, kept: [] };
    }
    return {
        serving,
        move: { from: movingFrom, to: serving, how: serving > movingFrom ? "follow" : "rejoin" },
        kept: [movingFrom, ...rest],
    };
}

/**
 * The name of a generation's resource: generation 1 keeps the name a server had before generations
 * (so that an existing stack's server is not replaced), later ones carry their number.
 */
export function generationResourceName(base: string, generation: number): string {
    return generation === 1 ? base : `${base}-g${generation}`;
}

/** The resource name of one of a move's steps, `<component>-move-g<from>-g<to>-<step>`, so that preview names both servers. */
export function moveStepName(componentName: string, move: Move, step: string): string {
    return `${componentName}-move-g${move.from}-g${move.to}-${step}`;
}

/** The generation a server's Name tag names (`<component>-instance`, `<component>-instance-g<N>`), or undefined when it names none. */
export function generationOfName(instanceName: string, baseName: string): number | undefined {
    if (instanceName === baseName) {
        return 1;
    }
    if (!instanceName.startsWith(`${baseName}-g`)) {
        return undefined;
    }
    const suffix = instanceName.slice(baseName.length + 2);
    return /^[1-9][0-9]*$/.test(suffix) ? Number(suffix) : undefined;
}

/**
 * Why the list cannot be applied to the servers EC2 has (`existing`), or undefined when it can: a kept
 * server is never created (the site can only move back to a server it left), and a new server that
 * serves without taking over from one of them would serve an empty database.
 */
export function generationsProblem(generations: readonly number[], existing: readonly number[]): string | undefined {
    const [serving, ...kept] = generations;
    const has = existing.length === 0 ? "none yet" : [...existing].sort((a, b) => a - b).join(", ");
    const missing = kept.filter((generation) => !existing.includes(generation));
    if (missing.length > 0) {
        return (
            `keeps server ${missing.join(" and ")}, which EC2 does not have (the stack's servers: ${has}); a server is kept only after the site has left it. ` +
            `List the server that serves now second, after the new one, for example ${existing.length === 0 ? "1" : `${Math.max(...existing) + 1},${Math.max(...existing)}`}`
        );
    }
    if (kept.length === 0 && existing.length > 0 && !existing.includes(serving)) {
        const from = Math.max(...existing);
        return (
            `is ${serving}, a new server, and names no server it takes the site over from (the stack's servers: ${has}): it would serve an empty database. ` +
            `Write ${serving},${from} to move the site and its data to it`
        );
    }
    return undefined;
}
