/**
 * The move's steps as WebServer declares them (components/server/move.ts), run by the real engine
 * between two sandbox servers: what `pulumi up` does when `webstack:serverGenerations` puts a new
 * server first, with the sandbox's stand-ins for the two AWS parts. The Elastic IP's association
 * is a local command that moves the sandbox's address (sandbox/network/elasticAddress.ts), and the
 * old instance's stop is its nginx stopped. Its config comes from engineMove.ts.
 */
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { commandConnection } from "../../../components/remoteProvisioner";
import { moveStepName, type Move } from "../../../components/server/generations";
import { declareMove } from "../../../components/server/move";
import { tagsFor } from "../../../components/tags";
import { MOVE_COMMANDS } from "../../../provisioning/files/replication";
import { RUN_AS_ROOT } from "../../../provisioning/plan";

/** How long a step waits for its server's SSH. */
const CONNECT_TIMEOUT_SECONDS = 60;

class SandboxMove extends pulumi.ComponentResource {
    constructor(name: string) {
        super("webstack:sandbox:Move", name, {});
    }
}

const config = new pulumi.Config("move");
const move: Move = { from: config.requireNumber("from"), to: config.requireNumber("to"), how: config.require("how") as Move["how"] };
const parent = new SandboxMove("webstack");
const context = { name: "webstack", tagsFor: tagsFor("webstack"), parent };
const connection = (end: "old" | "replacement") =>
    commandConnection(
        {
            host: config.require(`${end}Host`),
            user: config.require("user"),
            privateKey: config.requireSecret(`${end}PrivateKey`),
            hostKey: config.require(`${end}HostKey`),
        },
        CONNECT_TIMEOUT_SECONDS,
    );

const moved = declareMove(context, move, {
    old: connection("old"),
    replacement: connection("replacement"),
    oldPrivateAddress: config.require("oldHost"),
    oldHostKey: config.require("oldHostKey"),
    after: [],
});
const addressMoved = new command.local.Command(
    moveStepName(context.name, move, "address"),
    { create: moved.promoted.apply(() => config.require("addressCommand")), addPreviousOutputInEnv: false },
    { parent },
);
new command.remote.Command(
    moveStepName(context.name, move, "close-old-site"),
    { connection: connection("old"), create: RUN_AS_ROOT, stdin: MOVE_COMMANDS.closeOldSite.command, addPreviousOutputInEnv: false },
    { parent, dependsOn: [addressMoved], ignoreChanges: ["connection"] },
);

export const position = moved.position;
