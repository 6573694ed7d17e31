import { expect } from "chai";
import { buildRelease } from "../../release/build";
import { APP_DATABASE } from "../../provisioning/layout";
import { moveToReplacement, type MoveReport } from "../../sandbox/executors/cutover";
import { associateElasticAddress, releaseElasticAddress } from "../../sandbox/network/elasticAddress";
import { figure } from "../support/figure";
import { describeOutcomes, startLoad, type LoadReport, type LoadTarget } from "../support/load";
import { provisionSandbox, suiteLog, type TestSandbox } from "../support/sandbox";
import { startWriters, type WriteReport } from "../support/writers";

const OLD_NAME = "e2e-move-old";
const REPLACEMENT_NAME = "e2e-move-new";
/** The site's Elastic IP: an address of the test range that neither server owns. */
const ELASTIC_ADDRESS = "198.19.0.10";
const READ_CONNECTIONS = 64;
const WRITERS = 4;
const API_READ = "/api/posts?limit=5";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The posts the run stored, body → id, in the server's live database. */
async function storedPosts(server: TestSandbox, runId: string): Promise<Map<string, number>> {
    const rows = (await server.exec(`mariadb -N -B -e "SELECT body, id FROM ${APP_DATABASE}.posts WHERE body LIKE '${runId}-%'"`))
        .split("\n")
        .filter((line) => line !== "")
        .map((line) => line.split("\t"));
    expect(new Set(rows.map(([body]) => body)).size, "no post is stored twice").to.equal(rows.length);
    return new Map(rows.map(([body, id]) => [body, Number(id)]));
}

describe("the site moved to a replacement server under load (end to end)", function () {
    this.timeout(20 * 60_000);

    let old: TestSandbox;
    let replacement: TestSandbox;
    let site: LoadTarget;
    let move: MoveReport;
    let reads: LoadReport;
    let writes: WriteReport;
    const runId = `move-${Date.now()}`;

    before(async () => {
        const release = await buildRelease();
        old = await provisionSandbox(OLD_NAME, { appInstances: 2, release });
        replacement = await provisionSandbox(REPLACEMENT_NAME, { appInstances: 2, release });
        await associateElasticAddress(OLD_NAME, ELASTIC_ADDRESS, old.address);
        site = { address: ELASTIC_ADDRESS, hostName: `www.${old.domain}` };

        const load = startLoad(site, { paths: [API_READ, "/"], concurrency: READ_CONNECTIONS });
        const writers = startWriters(site, WRITERS, { runId, maxSeconds: 300 });
        await sleep(3_000);
        move = await moveToReplacement({
            old: old.ssh,
            replacement: replacement.ssh,
            oldAddress: old.address,
            oldHostKey: (await old.exec("cut -d' ' -f1,2 /etc/ssh/ssh_host_ed25519_key.pub")).trim(),
            moveAddress: () => associateElasticAddress(OLD_NAME, ELASTIC_ADDRESS, replacement.address),
            log: suiteLog,
        });
        await sleep(5_000);
        [reads, writes] = await Promise.all([load.stop(), writers.stop()]);
        figure(
            `moved under ${READ_CONNECTIONS} reading connections and ${WRITERS} writers: copy and catch-up ${move.followSeconds.toFixed(1)} s, ` +
                `writes paused ${move.writePauseSeconds.toFixed(1)} s (target ≤ 15 s, a benchmark figure)`,
        );
        figure(
            `reads: ${reads.sent} (${describeOutcomes(reads.outcomes)}), ${reads.retriedOnClosedConnection} sent again on a new connection`,
        );
        figure(`writes: ${writes.submissions} posts, ${writes.attempts} requests (${describeOutcomes(writes.outcomes)})`);
    });

    after(async () => {
        await releaseElasticAddress(OLD_NAME, ELASTIC_ADDRESS);
        await old?.destroy();
        await replacement?.destroy();
    });

    it("fails no read while the site moves", () => {
        expect(reads.failures, "the first failures").to.deep.equal([]);
        expect(reads.failed).to.equal(0);
        expect(reads.sent).to.be.above(1000);
    });

    it("loses no acknowledged write: the replacement holds every post, once, under the id the API gave", async () => {
        expect(writes.abandoned).to.equal(0);
        expect(writes.outcomes).not.to.have.property("500");
        expect(writes.acknowledged.size).to.be.above(20);
        expect(await storedPosts(replacement, runId)).to.deep.equal(writes.acknowledged);
    });

    it("answers the writes it paused with 503, Retry-After and JSON, which the writers sent again", () => {
        expect(writes.outcomes["503 deliberate"] ?? 0, "writes answered while paused").to.be.above(0);
    });

    it("leaves the replacement taking writes on its own, and the old server read-only behind a closed site", async () => {
        expect(await replacement.exec("webstack-replica status")).to.match(/^primary: read_only=0/);
        expect((await old.exec("webstack-writes status")).trim()).to.equal(`paused at ${move.position}`);
        expect((await old.exec("mariadb -N -B -e 'SELECT @@GLOBAL.read_only'")).trim()).to.equal("1");
        expect((await old.exec("systemctl is-active nginx || true")).trim()).to.equal("inactive");
    });

    it("keeps the replacement's tunnel account shut and its database on loopback", async () => {
        expect(await replacement.exec("ss -Htln 'sport = :3306' | awk '{print $4}'")).to.match(/^127\.0\.0\.1:3306\s*$/);
        const replicationAccount = await old.exec("sshd -T -C user=webstack-replica,host=x,addr=198.18.0.1");
        expect(replicationAccount).to.match(/^allowtcpforwarding local$/m);
        expect(replicationAccount).to.match(/^permitopen 127\.0\.0\.1:3306$/m);
        expect(replicationAccount).to.match(/^forcecommand sudo -n \/usr\/local\/sbin\/webstack-replication-grant$/m);
        expect(await old.exec("sshd -T -C user=admin,host=x,addr=198.18.0.1 | grep -i '^allowtcpforwarding '")).to.match(
            /allowtcpforwarding no/,
        );
    });
});
