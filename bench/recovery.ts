/**
 * The recovery figures, through the real Pulumi engine in existing-server mode: the RPO (how long
 * before the loss the oldest acknowledged post that did not come back was written, with the server
 * lost without warning under steady writers) and the RTO (from the start of `pulumi up` on the new,
 * empty server to the site serving the restored posts), beside its baseline: `pulumi up` of a new
 * empty server of a stack with nothing to restore, on the same machine in the same run.
 */
import { wwwHostName } from "../provisioning/site";
import { existingServerConfig, sandboxServer, setStackConfig } from "../sandbox/executors/engine";
import { destroySandbox, startSandbox } from "../sandbox/sandbox";
import { request, waitUntil } from "../test/support/http";
import { loseServerUnderWriters } from "../test/support/serverLoss";
import type { Figure } from "./measure";
import { benchLog, SERVER_MEMORY_MIB, timed, withSandboxStack } from "./probes";

const SANDBOX_NAME = "bench-recovery";
/** Longer than the RPO target, so that a shipping that stalled would show. */
const WRITING_SECONDS = 90;
const WRITERS = 4;
const RPO_TARGET_SECONDS = 60;

export async function recoveryFigures(figures: Figure[]): Promise<void> {
    console.log("recovery: pulumi up of a new empty server, then the server lost under writers and pulumi up on its replacement");
    const server = await startSandbox({ name: SANDBOX_NAME, log: benchLog, memoryLimitMiB: SERVER_MEMORY_MIB });
    try {
        await withSandboxStack(server, async (stack) => {
            const site = { address: server.address, hostName: wwwHostName(server.domain) };
            const emptyServer = await timed(async () => {
                await stack.up();
                await waitUntil("the site answers", 60, async () => (await request(site, "GET", "/api/posts?limit=1")).status === 200);
            });
            const loss = await loseServerUnderWriters({
                sandboxName: SANDBOX_NAME,
                site,
                writers: WRITERS,
                writingSeconds: WRITING_SECONDS,
                body: (key) => key,
                bringBack: async (newServer) => {
                    await setStackConfig(stack, existingServerConfig(sandboxServer(newServer)));
                    await stack.up();
                },
            });
            figures.push({
                name: "RPO: writes lost with the server",
                value: loss.rpoSeconds,
                unit: "s",
                target: { kind: "at-most", bound: RPO_TARGET_SECONDS },
                detail: `${loss.lost} of ${loss.written} acknowledged posts lost (${loss.postsPerSecond.toFixed(0)} a second for ${WRITING_SECONDS} s); ${loss.mangled} mangled`,
            });
            figures.push({
                name: "RTO: pulumi up on a new server to the restored site",
                value: loss.rtoSeconds,
                unit: "s",
                baseline: emptyServer.seconds,
                detail: "the baseline is pulumi up of a new empty server, with nothing to restore",
            });
        });
    } finally {
        await destroySandbox(SANDBOX_NAME, benchLog);
    }
}
