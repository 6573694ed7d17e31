import { APP_DATABASE } from "../../provisioning/layout";
import type { ServerSettings } from "../../provisioning";
import { moveToReplacement, type MoveReport } from "../../sandbox/executors/cutover";
import { associateElasticAddress, associateElasticAddressCommand, releaseElasticAddress } from "../../sandbox/network/elasticAddress";
import { moveThroughEngine } from "../../sandbox/executors/engineMove";
import { startLoad, type LoadReport, type LoadTarget } from "./load";
import { provisionSandbox, suiteLog, type TestSandbox } from "./sandbox";
import { startWriters, type WriteReport } from "./writers";

/** The site's Elastic IP in the sandbox: an address of the test range that no server owns. */
const ELASTIC_ADDRESS = "198.19.0.10";
/** The Elastic IP's name, for its table on this machine. */
const ELASTIC_NAME = "site";
const API_READ = "/api/posts?limit=5";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A site moved from one sandbox server to its replacement while readers and writers used it. */
export interface MoveUnderLoad {
    readonly old: TestSandbox;
    readonly replacement: TestSandbox;
    readonly site: LoadTarget;
    readonly move: MoveReport;
    readonly reads: LoadReport;
    readonly writes: WriteReport;
    /** The writers' run id, which starts every body they posted. */
    readonly runId: string;
    /** Where the engine's stack of the move lives, when the engine ran it: moving back is the same stack's next up. */
    readonly engineStateDir?: string;
    /** Releases the address and destroys both servers; safe to call twice. */
    destroy(): Promise<void>;
}

/**
 * Provisions two sandbox servers with the same plan, gives the first the site's Elastic IP, and
 * moves the site to the second while `readers` connections read and `writers` writers post with
 * idempotency keys, from a few seconds before the move to a few after. The move runs through SSH
 * ({@link moveToReplacement}), or, given `engineStateDir`, as WebServer's own steps in the real
 * engine ({@link moveThroughEngine}), server 1 to server 2.
 */
export async function moveUnderLoad(options: {
    names: { old: string; replacement: string };
    settings: ServerSettings;
    readers: number;
    writers: number;
    engineStateDir?: string;
    log?: (line: string) => void;
}): Promise<MoveUnderLoad> {
    const log = options.log ?? suiteLog;
    let old: TestSandbox | undefined;
    let replacement: TestSandbox | undefined;
    const destroy = async () => {
        await releaseElasticAddress(ELASTIC_NAME, ELASTIC_ADDRESS);
        await old?.destroy();
        await replacement?.destroy();
    };
    try {
        // Side by side, as `pulumi up` builds the new server while the old one serves; both settle
        // before a failure is thrown, so that neither is left behind.
        const [first, second] = await Promise.allSettled([
            provisionSandbox(options.names.old, options.settings, { log }),
            provisionSandbox(options.names.replacement, options.settings, { log }),
        ]);
        old = first.status === "fulfilled" ? first.value : undefined;
        replacement = second.status === "fulfilled" ? second.value : undefined;
        if (first.status === "rejected" || second.status === "rejected") {
            throw first.status === "rejected" ? first.reason : (second as PromiseRejectedResult).reason;
        }
        const [from, to] = [first.value, second.value];
        await associateElasticAddress(ELASTIC_NAME, ELASTIC_ADDRESS, from.address);
        const site = { address: ELASTIC_ADDRESS, hostName: `www.${from.domain}` };
        const { move, reads, writes, runId } = await moveWhileUsed(site, from, to, { ...options, log, movingBack: false });
        return { old: from, replacement: to, site, move, reads, writes, runId, engineStateDir: options.engineStateDir, destroy };
    } catch (error) {
        await destroy();
        throw error;
    }
}

/** What moving the site back measured, as {@link MoveUnderLoad} does for the move. */
export type MoveBack = Pick<MoveUnderLoad, "move" | "reads" | "writes" | "runId">;

/** Moves a moved site back to the server it left, under the same readers and writers: the server the site left rejoins (`webstack-replica rejoin`). */
export async function moveBackUnderLoad(
    moved: MoveUnderLoad,
    options: { readers: number; writers: number; log?: (line: string) => void },
): Promise<MoveBack> {
    return moveWhileUsed(moved.site, moved.replacement, moved.old, {
        ...options,
        engineStateDir: moved.engineStateDir,
        log: options.log ?? suiteLog,
        movingBack: true,
    });
}

/** Readers and writers on the site from a few seconds before the move from `from` to `to` to a few after it. */
async function moveWhileUsed(
    site: LoadTarget,
    from: TestSandbox,
    to: TestSandbox,
    options: { readers: number; writers: number; log: (line: string) => void; movingBack: boolean; engineStateDir?: string },
): Promise<MoveBack> {
    const runId = `move-${Date.now()}`;
    const load = startLoad(site, { paths: [API_READ, "/"], concurrency: options.readers });
    const writers = startWriters(site, options.writers, { runId, maxSeconds: 300 });
    await sleep(3_000);
    const move =
        options.engineStateDir === undefined
            ? await moveToReplacement({
                  old: from.ssh,
                  replacement: to.ssh,
                  oldAddress: from.address,
                  oldHostKey: (await from.exec("cut -d' ' -f1,2 /etc/ssh/ssh_host_ed25519_key.pub")).trim(),
                  movingBack: options.movingBack,
                  moveAddress: () => associateElasticAddress(ELASTIC_NAME, ELASTIC_ADDRESS, to.address),
                  log: options.log,
              })
            : await moveThroughEngine({
                  move: options.movingBack ? { from: 2, to: 1, how: "rejoin" } : { from: 1, to: 2, how: "follow" },
                  old: from,
                  replacement: to,
                  addressCommand: associateElasticAddressCommand(ELASTIC_NAME, ELASTIC_ADDRESS, to.address),
                  stateDir: options.engineStateDir,
                  log: options.log,
              });
    await sleep(5_000);
    const [reads, writes] = await Promise.all([load.stop(), writers.stop()]);
    return { move, reads, writes, runId };
}

/** The posts a run stored, body → id, in a server's live database. */
export async function storedPosts(server: TestSandbox, runId: string): Promise<Map<string, number>> {
    const rows = (await server.exec(`mariadb -N -B -e "SELECT body, id FROM ${APP_DATABASE}.posts WHERE body LIKE '${runId}-%'"`))
        .split("\n")
        .filter((line) => line !== "")
        .map((line) => line.split("\t"));
    return new Map(rows.map(([body, id]) => [body, Number(id)]));
}

/** How many of the run's posts a server's live database holds, duplicates included. */
export async function storedPostCount(server: TestSandbox, runId: string): Promise<number> {
    return Number((await server.exec(`mariadb -N -B -e "SELECT COUNT(*) FROM ${APP_DATABASE}.posts WHERE body LIKE '${runId}-%'"`)).trim());
}

/** The acknowledged writes the replacement does not hold under the id the API gave. */
export function lostWrites(acknowledged: ReadonlyMap<string, number>, stored: ReadonlyMap<string, number>): string[] {
    return [...acknowledged].filter(([body, id]) => stored.get(body) !== id).map(([body]) => body);
}
