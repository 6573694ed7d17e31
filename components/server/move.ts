import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { MOVE_COMMANDS, type MoveCommand } from "../../provisioning/files/replication";
import { RUN_AS_ROOT } from "../../provisioning/plan";
import type { ComponentContext } from "../context";
import { moveStepName, type Move } from "./generations";

/** The two servers of a move, as the move's steps reach them. */
export interface MoveEnds {
    /** SSH to the server the site leaves: through the Elastic IP, which it holds until the move is done. */
    readonly old: command.types.input.remote.ConnectionArgs;
    /** SSH to the server the site moves to, at its own public address. */
    readonly replacement: command.types.input.remote.ConnectionArgs;
    /** The old server's private address, where the replacement's tunnel reaches it. */
    readonly oldPrivateAddress: pulumi.Input<string>;
    /** The old server's SSH host key, the only key the tunnel trusts. */
    readonly oldHostKey: pulumi.Input<string>;
    /** What the move waits for: the replacement configured by the plan (a new server), or started again (a server the site left). */
    readonly after: pulumi.Input<pulumi.Resource>[];
}

/** Where the replacement's tunnel reaches the old server, and the only host key it trusts there. */
export interface OldServer {
    readonly privateAddress: string;
    readonly hostKey: string;
}

/** One step of a move: its command, given the old server and what the step before printed. */
export interface MoveStep {
    readonly name: string;
    readonly command: (previousOutput: string, old: OldServer) => MoveCommand;
}

/** The steps of a move, in order ({@link MOVE_COMMANDS}). */
export function moveSteps(move: Move): MoveStep[] {
    return [
        { name: "key", command: () => MOVE_COMMANDS.replicationKey },
        { name: "allow", command: (key) => MOVE_COMMANDS.allow(key) },
        { name: move.how, command: (_, old) => MOVE_COMMANDS.catchUp(move.how, old.privateAddress, old.hostKey) },
        { name: "pause-writes", command: () => MOVE_COMMANDS.pauseWrites },
        { name: "promote", command: (position) => MOVE_COMMANDS.promote(position) },
    ];
}

/**
 * The move's steps (docs/replacement.md), each a command that runs once, as root, on the server it
 * names: the replacement's key allowed on the old server, the copy or the catching up, the old
 * server's writes paused, the replacement promoted at the position the pause printed (`position`:
 * the old server's last transaction). What remains is the caller's: the Elastic IP moves once `promoted` is known, then the old server stops. A
 * step that failed runs again at the next `pulumi up`; those that succeeded do not.
 */
export function declareMove(
    context: ComponentContext,
    move: Move,
    ends: MoveEnds,
): { position: pulumi.Output<string>; promoted: pulumi.Output<string> } {
    const connections = { old: ends.old, replacement: ends.replacement };
    const old = pulumi.all([ends.oldPrivateAddress, ends.oldHostKey]).apply(([privateAddress, hostKey]) => ({ privateAddress, hostKey }));
    let previous: command.remote.Command | undefined;
    const declared = new Map<string, command.remote.Command>();
    for (const step of moveSteps(move)) {
        const before = previous;
        // Which server a step runs on does not depend on the values it is given.
        const { on } = step.command("", { privateAddress: "", hostKey: "" });
        previous = new command.remote.Command(
            moveStepName(context.name, move, step.name),
            {
                connection: connections[on],
                create: RUN_AS_ROOT,
                stdin: pulumi.all([before?.stdout ?? "", old]).apply(([output, server]) => step.command(output, server).command),
                addPreviousOutputInEnv: false,
            },
            // Once run, a step stays done: the servers' addresses change as the site moves (the old one's
            // goes with its Elastic IP), and a new connection must not run the step again.
            { parent: context.parent, dependsOn: before === undefined ? ends.after : [before], ignoreChanges: ["connection"] },
        );
        declared.set(step.name, previous);
    }
    const stdoutOf = (name: string) => (declared.get(name) as command.remote.Command).stdout;
    return { position: stdoutOf("pause-writes").apply((output) => output.trim()), promoted: stdoutOf("promote") };
}

/**
 * An HTTPS site's certificates carried from the old server to a new one before its plan runs (the
 * new server's certbot step then keeps them; it could not answer the ACME challenge before the
 * address is its own). They pass through the engine as secrets: encrypted in the state, never shown.
 */
export function declareCertificateCopy(
    context: ComponentContext,
    move: Move,
    ends: Pick<MoveEnds, "old" | "replacement">,
): command.remote.Command {
    const read = new command.remote.Command(
        moveStepName(context.name, move, "read-certificates"),
        {
            connection: ends.old,
            create: RUN_AS_ROOT,
            stdin: MOVE_COMMANDS.readCertificates.command,
            addPreviousOutputInEnv: false,
            logging: "stderr",
        },
        { parent: context.parent, additionalSecretOutputs: ["stdout"], ignoreChanges: ["connection"] },
    );
    return new command.remote.Command(
        moveStepName(context.name, move, "install-certificates"),
        {
            connection: ends.replacement,
            create: RUN_AS_ROOT,
            stdin: pulumi.secret(read.stdout.apply((archive) => MOVE_COMMANDS.installCertificates(archive).command)),
            addPreviousOutputInEnv: false,
        },
        { parent: context.parent, dependsOn: [read], ignoreChanges: ["connection"] },
    );
}
