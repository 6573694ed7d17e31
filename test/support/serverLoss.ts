import { APP_DATABASE } from "../../provisioning/layout";
import { replaceServer } from "../../sandbox/sandbox";
import { sshRunAsRoot, type SshTarget } from "../../sandbox/host/ssh";
import type { Sandbox } from "../../sandbox/host/state";
import { request, waitUntil } from "./http";
import type { LoadTarget } from "./load";
import { startWriters } from "./writers";

/** A writer's key at the start of a post's body: `loss-<writer>-<post>`. */
const WRITER_KEY = /^loss-\d+-\d+/;

/** How long the site has, once `pulumi up` has finished, to serve the restored posts. */
const SERVING_SECONDS = 60;

/** The posts' bodies in the server's live database, in id order, byte for byte. */
export async function postBodies(ssh: SshTarget): Promise<string[]> {
    const hex = await sshRunAsRoot(ssh, `mariadb --batch --skip-column-names -e 'SELECT HEX(body) FROM ${APP_DATABASE}.posts ORDER BY id'`);
    return hex
        .split("\n")
        .filter((line) => line !== "")
        .map((line) => Buffer.from(line, "hex").toString("utf8"));
}

export interface ServerLoss {
    /** Posts acknowledged before the server was lost. */
    readonly written: number;
    /** Of those, per second of writing. */
    readonly postsPerSecond: number;
    /** Acknowledged posts the new server does not have. */
    readonly lost: number;
    /** How long before the loss the oldest lost post was acknowledged: the writes lost, in seconds (0 when none). */
    readonly rpoSeconds: number;
    /** From the start of `bringBack` (the operator's `pulumi up`) to the site serving the restored posts. */
    readonly rtoSeconds: number;
    /** Bodies of acknowledged posts the new server holds with other bytes than were sent (none, when nothing is mangled). */
    readonly mangled: number;
}

/**
 * The sandbox's server lost without warning while writers post steadily (each post under its own
 * Idempotency-Key): after `writingSeconds` its processes are killed and its disk and network are
 * gone, and a new server with an empty disk takes its address ({@link replaceServer}). Then
 * `bringBack` runs, as the operator's one command, and the site is awaited serving the posts; what
 * was lost and how long it took are counted from the writers' acknowledgements.
 */
export async function loseServerUnderWriters(options: {
    readonly sandboxName: string;
    readonly site: LoadTarget;
    readonly writers: number;
    readonly writingSeconds: number;
    /** The body of each post, which starts with its key (`loss-<writer>-<post>`). */
    readonly body: (key: string) => string;
    readonly bringBack: (newServer: Sandbox) => Promise<void>;
}): Promise<ServerLoss> {
    const writers = startWriters(options.site, options.writers, { runId: "loss", body: options.body, loseEveryTenthAnswer: false });
    await new Promise((resolve) => setTimeout(resolve, options.writingSeconds * 1000));
    const lostAt = Date.now();
    const newServer = await replaceServer(options.sandboxName, () => undefined);
    const report = await writers.stop();
    const written = [...report.acknowledgedAt].filter(([, at]) => at <= lostAt).map(([body, at]) => ({ body, at }));

    const startedAt = Date.now();
    await options.bringBack(newServer);
    await waitUntil(
        "the site serves the restored posts",
        SERVING_SECONDS,
        async () => (await request(options.site, "GET", "/api/posts?limit=1")).status === 200,
    );
    const rtoSeconds = (Date.now() - startedAt) / 1000;

    const restored = new Set(await postBodies(newServer.ssh));
    const lost = written.filter((post) => !restored.has(post.body));
    return {
        written: written.length,
        postsPerSecond: written.length / options.writingSeconds,
        lost: lost.length,
        rpoSeconds: lost.length === 0 ? 0 : (lostAt - Math.min(...lost.map((post) => post.at))) / 1000,
        rtoSeconds,
        // Every post the writers sent, acknowledged or not, comes back with its exact bytes or not at all.
        mangled: [...restored].filter((body) => {
            const key = WRITER_KEY.exec(body)?.[0];
            return body.startsWith("loss-") && (key === undefined || body !== options.body(key));
        }).length,
    };
}
