import { MOVE_COMMANDS, type MoveCommand } from "../../provisioning/files/replication";
import { sshRunAsRoot, type SshTarget } from "../host/ssh";

/** What a move to a replacement server measured. */
export interface MoveReport {
    /** The old server's last transaction when its writes paused: what the replacement replayed up to. */
    readonly position: string;
    /** From the old server's writes paused to the address on the replacement, which takes writes. */
    readonly writePauseSeconds: number;
    /** How long the copy and catching up took, the site serving throughout. */
    readonly followSeconds: number;
}

/**
 * Moves the site from the old server to its replacement, both provisioned with the same plan, as
 * {@link MOVE_COMMANDS} orders it; `moveAddress` moves the site's address (the Elastic IP) to the
 * replacement once it takes writes. Moving back is the same call with the roles swapped.
 */
export async function moveToReplacement(servers: {
    old: SshTarget;
    replacement: SshTarget;
    /** The old server's address as the replacement reaches it (its private address). */
    oldAddress: string;
    /** The old server's SSH host key, "ssh-ed25519 AAAA...". */
    oldHostKey: string;
    /** Moving back: the replacement is the server the site left, and catches up from its own last transaction. Defaults to false. */
    movingBack?: boolean;
    moveAddress(): Promise<void>;
    log(line: string): void;
}): Promise<MoveReport> {
    const run = async (step: MoveCommand) => (await sshRunAsRoot(servers[step.on], step.command)).trim();

    const key = await run(MOVE_COMMANDS.replicationKey);
    await run(MOVE_COMMANDS.allow(key));
    const followStarted = Date.now();
    servers.log(await run(MOVE_COMMANDS.catchUp(servers.movingBack ? "rejoin" : "follow", servers.oldAddress, servers.oldHostKey)));
    const followSeconds = (Date.now() - followStarted) / 1000;

    const pausedAt = Date.now();
    const position = await run(MOVE_COMMANDS.pauseWrites);
    servers.log(`old server's writes paused at ${position}`);
    servers.log(await run(MOVE_COMMANDS.promote(position)));
    await servers.moveAddress();
    const writePauseSeconds = (Date.now() - pausedAt) / 1000;
    servers.log(`address moved: ${writePauseSeconds.toFixed(1)} s after the writes paused`);
    await run(MOVE_COMMANDS.closeOldSite);
    return { position, writePauseSeconds, followSeconds };
}
