import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { requireEngineBinDir } from "../../sandbox/executors/engine";
import { moveStackPreviewChanges } from "../../sandbox/executors/engineMove";
import { buildRelease } from "../../release/build";
import { figure } from "../support/figure";
import { describeOutcomes } from "../support/load";
import {
    lostWrites,
    moveBackUnderLoad,
    moveUnderLoad,
    storedPostCount,
    storedPosts,
    type MoveBack,
    type MoveUnderLoad,
} from "../support/move";

const READ_CONNECTIONS = 64;
const WRITERS = 4;

describe("the site moved to a replacement server under load, WebServer's move steps run by the real engine (end to end)", function () {
    this.timeout(20 * 60_000);

    let moved: MoveUnderLoad;
    let engineStateDir: string;

    before(async () => {
        requireEngineBinDir();
        engineStateDir = mkdtempSync(join(tmpdir(), "webstack-move-"));
        moved = await moveUnderLoad({
            names: { old: "e2e-move-old", replacement: "e2e-move-new" },
            settings: { appInstances: 2, release: await buildRelease() },
            readers: READ_CONNECTIONS,
            writers: WRITERS,
            engineStateDir,
        });
        const { move, reads, writes } = moved;
        figure(
            `moved under ${READ_CONNECTIONS} reading connections and ${WRITERS} writers: copy and catch-up ${move.followSeconds.toFixed(1)} s, ` +
                `writes paused ${move.writePauseSeconds.toFixed(1)} s (target ≤ 15 s, a benchmark figure: npm run bench -- move)`,
        );
        figure(
            `reads: ${reads.sent} (${describeOutcomes(reads.outcomes)}), ${reads.retriedOnClosedConnection} sent again on a new connection`,
        );
        figure(`writes: ${writes.submissions} posts, ${writes.attempts} requests (${describeOutcomes(writes.outcomes)})`);
    });

    after(async () => {
        await moved?.destroy();
        if (engineStateDir !== undefined) {
            rmSync(engineStateDir, { recursive: true, force: true });
        }
    });

    it("fails no read while the site moves", () => {
        expect(moved.reads.failures, "the first failures").to.deep.equal([]);
        expect(moved.reads.failed).to.equal(0);
        expect(moved.reads.sent).to.be.above(1000);
    });

    it("loses no acknowledged write: the replacement holds every post, once, under the id the API gave", async () => {
        const { writes, replacement, runId } = moved;
        expect(writes.abandoned).to.equal(0);
        expect(writes.outcomes).not.to.have.property("500");
        expect(writes.acknowledged.size).to.be.above(20);
        const stored = await storedPosts(replacement, runId);
        expect(lostWrites(writes.acknowledged, stored)).to.deep.equal([]);
        expect(await storedPostCount(replacement, runId), "no post stored twice").to.equal(writes.acknowledged.size);
    });

    it("answers the writes it paused with 503, Retry-After and JSON, which the writers sent again", () => {
        expect(moved.writes.outcomes["503 deliberate"] ?? 0, "writes answered while paused").to.be.above(0);
    });

    it("leaves the replacement taking writes on its own, and the old server read-only behind a closed site", async () => {
        const { old, replacement, move } = moved;
        expect(await replacement.exec("webstack-replica status")).to.match(/^primary: read_only=0/);
        expect((await old.exec("webstack-writes status")).trim()).to.equal(`paused at ${move.position}`);
        expect((await old.exec("mariadb -N -B -e 'SELECT @@GLOBAL.read_only'")).trim()).to.equal("1");
        expect((await old.exec("systemctl is-active nginx || true")).trim()).to.equal("inactive");
    });

    it("runs each of the move's steps once: a preview of the same stack afterwards changes nothing", async () => {
        expect(await moveStackPreviewChanges(engineStateDir)).to.deep.equal({});
    });

    it("keeps the replacement's tunnel account shut and its database on loopback", async () => {
        const { old, replacement } = moved;
        expect(await replacement.exec("ss -Htln 'sport = :3306' | awk '{print $4}'")).to.match(/^127\.0\.0\.1:3306\s*$/);
        const replicationAccount = await old.exec("sshd -T -C user=webstack-replica,host=x,addr=198.18.0.1");
        expect(replicationAccount).to.match(/^allowtcpforwarding local$/m);
        expect(replicationAccount).to.match(/^permitopen 127\.0\.0\.1:3306$/m);
        expect(replicationAccount).to.match(/^forcecommand sudo -n \/usr\/local\/sbin\/webstack-replication-grant$/m);
        expect(await old.exec("sshd -T -C user=admin,host=x,addr=198.18.0.1 | grep -i '^allowtcpforwarding '")).to.match(
            /allowtcpforwarding no/,
        );
    });

    describe("and moved back", () => {
        let back: MoveBack;

        before(async () => {
            back = await moveBackUnderLoad(moved, { readers: READ_CONNECTIONS, writers: WRITERS });
            figure(
                `moved back: the old server rejoined in ${back.move.followSeconds.toFixed(1)} s, writes paused ${back.move.writePauseSeconds.toFixed(1)} s; ` +
                    `reads: ${back.reads.sent} (${describeOutcomes(back.reads.outcomes)}); writes: ${back.writes.submissions} posts (${describeOutcomes(back.writes.outcomes)})`,
            );
        });

        it("fails no read, with the same commands the other way", () => {
            expect(back.reads.failures, "the first failures").to.deep.equal([]);
            expect(back.reads.failed).to.equal(0);
        });

        it("holds, on the server the site left, every post written before, after and during both moves", async () => {
            const { old, runId } = moved;
            expect(back.writes.abandoned).to.equal(0);
            expect(
                lostWrites(moved.writes.acknowledged, await storedPosts(old, runId)),
                "written before and during the first move",
            ).to.deep.equal([]);
            expect(lostWrites(back.writes.acknowledged, await storedPosts(old, back.runId)), "written while moving back").to.deep.equal([]);
            expect(await storedPostCount(old, back.runId), "no post stored twice").to.equal(back.writes.acknowledged.size);
        });

        it("leaves the server the site left taking writes again, and the other one paused behind a closed site", async () => {
            const { old, replacement } = moved;
            expect(await old.exec("webstack-replica status")).to.match(/^primary: read_only=0/);
            expect((await old.exec("webstack-writes status")).trim()).to.equal("served");
            expect((await replacement.exec("webstack-writes status")).trim()).to.equal(`paused at ${back.move.position}`);
            expect((await replacement.exec("systemctl is-active nginx || true")).trim()).to.equal("inactive");
        });
    });
});
