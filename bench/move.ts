import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildRelease } from "../release/build";
import { lostWrites, moveUnderLoad, storedPosts } from "../test/support/move";
import type { Figure } from "./measure";
import { benchLog } from "./probes";

/** Readers and writers while the site moves, as the target names them. */
const READERS = 64;
const WRITERS = 4;

/**
 * The site moved to a replacement server as `pulumi up` moves it (WebServer's move steps, run by the
 * real engine) while 64 connections read and writers post with idempotency keys: the seconds writes
 * wait, against the seconds the copy and catching up took while the old server served (the part of a
 * move nobody waits for).
 */
export async function moveFigures(figures: Figure[]): Promise<void> {
    console.log(`a move to a replacement server under ${READERS} readers and ${WRITERS} writers, run by the real engine`);
    const engineStateDir = mkdtempSync(join(tmpdir(), "webstack-bench-move-"));
    const moved = await moveUnderLoad({
        names: { old: "bench-move-old", replacement: "bench-move-new" },
        settings: { appInstances: 2, release: await buildRelease() },
        readers: READERS,
        writers: WRITERS,
        engineStateDir,
        log: benchLog,
    });
    try {
        const { move, reads, writes } = moved;
        const lost = lostWrites(writes.acknowledged, await storedPosts(moved.replacement, moved.runId));
        figures.push(
            {
                name: "move to a replacement: writes paused",
                value: move.writePauseSeconds,
                unit: "s",
                baseline: move.followSeconds,
                target: { kind: "at-most", bound: 15 },
                detail: `baseline: the copy and catching up, the old server serving; ${writes.outcomes["503 deliberate"] ?? 0} writes answered 503 and sent again`,
            },
            {
                name: "move to a replacement: failed reads",
                value: reads.failed,
                unit: "requests",
                target: { kind: "at-most", bound: 0 },
                detail: `of ${reads.sent}; ${reads.retriedOnClosedConnection} sent again on a new connection when the old server closed theirs`,
            },
            {
                name: "move to a replacement: acknowledged writes lost",
                value: lost.length + writes.abandoned,
                unit: "posts",
                target: { kind: "at-most", bound: 0 },
                detail: `of ${writes.acknowledged.size} acknowledged`,
            },
        );
    } finally {
        await moved.destroy();
        rmSync(engineStateDir, { recursive: true, force: true });
    }
}
