import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import type { Move } from "../../components/server/generations";
import { moveStepName } from "../../components/server/generations";
import type { SshTarget } from "../host/ssh";
import type { MoveReport } from "./cutover";
import { ed25519HostKey, openEngineStack } from "./engine";

/** The sandbox's program of a move (moveProgram/index.ts): WebServer's move steps and the sandbox's stand-ins. */
const MOVE_STACK = { stackName: "move", passphrase: "sandbox-move", programDir: join(__dirname, "moveProgram") } as const;

/** A server of a move, as the engine's steps reach it. */
export interface MoveServer {
    readonly ssh: SshTarget;
    /** Its address on the servers' network, where the other one's tunnel reaches it. */
    readonly address: string;
}

/** The stack config of the move program: the move, both servers' logins and host keys, and the command that moves the address. */
export function moveProgramConfig(
    move: Move,
    servers: { old: MoveServer; replacement: MoveServer },
    addressCommand: string,
): Record<string, { value: string; secret?: boolean }> {
    const end = (prefix: "old" | "replacement", server: MoveServer) => ({
        [`move:${prefix}Host`]: { value: server.address },
        [`move:${prefix}HostKey`]: { value: ed25519HostKey(readFileSync(server.ssh.knownHostsFile, "utf8")) },
        [`move:${prefix}PrivateKey`]: { value: readFileSync(server.ssh.identityFile, "utf8"), secret: true },
    });
    return {
        "move:from": { value: String(move.from) },
        "move:to": { value: String(move.to) },
        "move:how": { value: move.how },
        "move:user": { value: servers.old.ssh.user },
        "move:addressCommand": { value: addressCommand },
        ...end("old", servers.old),
        ...end("replacement", servers.replacement),
    };
}

/** The seconds between two moments the engine's events mark: when a step started, and when another finished. */
export function stepSpan(started: ReadonlyMap<string, number>, finished: ReadonlyMap<string, number>, from: string, to: string): number {
    const [start, end] = [started.get(from), finished.get(to)];
    if (start === undefined || end === undefined) {
        throw new Error(`The engine's events lack the start of ${from} or the end of ${to}; the move did not run them.`);
    }
    return (end - start) / 1000;
}

/**
 * Moves the site between two sandbox servers with the real engine running WebServer's own move
 * steps (`pulumi up` of the move program, in a stack kept under `stateDir` so that a later move, back
 * for example, is a config change of the same stack), and reports it as {@link moveToReplacement}
 * does: the pause from the start of the writes' pause to the address moved, as the engine's events
 * mark them when they arrive.
 */
export async function moveThroughEngine(options: {
    move: Move;
    old: MoveServer;
    replacement: MoveServer;
    /** A shell command, run on this machine, that moves the site's address to the replacement (the Elastic IP's stand-in). */
    addressCommand: string;
    stateDir: string;
    log: (line: string) => void;
}): Promise<MoveReport> {
    const stack = await openEngineStack({
        stateDir: options.stateDir,
        ...MOVE_STACK,
        config: moveProgramConfig(options.move, options, options.addressCommand),
    });
    const started = new Map<string, number>();
    const finished = new Map<string, number>();
    const nameOf = (urn: string) => urn.slice(urn.lastIndexOf("::") + 2);
    const onEvent = (event: EngineEvent) => {
        if (event.resourcePreEvent !== undefined) {
            started.set(nameOf(event.resourcePreEvent.metadata.urn), Date.now());
        }
        if (event.resOutputsEvent !== undefined) {
            finished.set(nameOf(event.resOutputsEvent.metadata.urn), Date.now());
        }
    };
    options.log(`pulumi up: the move from server ${options.move.from} to server ${options.move.to} (${options.move.how})`);
    const result = await stack.up({ onEvent });
    const step = (name: string) => moveStepName("webstack", options.move, name);
    return {
        position: String(result.outputs.position.value),
        writePauseSeconds: stepSpan(started, finished, step("pause-writes"), step("address")),
        followSeconds: stepSpan(started, finished, step(options.move.how), step(options.move.how)),
    };
}

/** What a preview of the move's stack, as it was last moved, would change: nothing, once every step has run. */
export async function moveStackPreviewChanges(stateDir: string): Promise<Record<string, number>> {
    const stack = await openEngineStack({ stateDir, ...MOVE_STACK, config: {} });
    const preview = await stack.preview();
    return Object.fromEntries(Object.entries(preview.changeSummary).filter(([kind]) => kind !== "same"));
}
