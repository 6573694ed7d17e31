/**
 * `npm run bench`: the stack's speed and memory on a sandbox server held to a t3.micro's memory
 * (1 GiB, no swap), each figure beside a baseline measured in the same run (ratios hold from machine
 * to machine where absolute times do not). Prints a table and writes build/bench/results.json and
 * results.md. Not a test: it runs for minutes, and CI does not run it.
 *
 * The figures: cold provision against `apt-get install` of the same packages (with the same
 * security updates) on an identical fresh server, and a no-change re-run; a static file through the
 * stack's nginx against a minimal nginx serving the same file; an API read through nginx, with its
 * micro-cache and without (the proxy's own cost, with the stack's CPU per request by process), and an
 * API write, against the same app instances reached directly; a crowd of 1,000 readers and a few
 * hundred writers, with the cache and without; a deploy and a rollback under 64
 * keep-alive connections; memory of nginx, the app instances, MariaDB and journald, idle and after
 * the load; log bytes per 100,000 requests; a 60 s overload at 256 connections (anything killed or
 * restarted, the server's peak memory, the kernel's out-of-memory order); new TLS connections per
 * second, full and resumed; a reboot for an update (the maintenance window's) beside a bare reboot;
 * the real Pulumi engine's no-change `pulumi up` and an up changing one file,
 * beside the sandbox runner doing the same; the RPO and RTO of a server lost under writers and brought
 * back by `pulumi up`, against `pulumi up` of a new empty server; the site moved to a replacement
 * server under readers and writers (the seconds writes wait, failed reads, lost writes). wrk (Debian's; C, keep-alive, latency percentiles, scriptable for
 * POSTs) runs inside the server, so the sandbox's network is not what is measured; the TLS
 * handshakes come from this host.
 *
 * `npm run bench -- recovery` (or `serving`, `move`, or `engine`: the engine's figures alone) runs one
 * part; with none, serving, recovery and move run, serving's figures including the engine's.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildRelease } from "../release/build";
import { buildPlan } from "../provisioning";
import { wwwHostName } from "../provisioning/site";
import { destroySandbox, startSandbox } from "../sandbox/sandbox";
import type { Sandbox } from "../sandbox/host/state";
import { renderTable, verdict, type Figure } from "./measure";
import { benchLog, logBytes, memory, SERVER_MEMORY_MIB, type BenchRun } from "./probes";
import { engineOnlyFigures, provisioningFigures } from "./provisioning";
import { moveFigures } from "./move";
import { recoveryFigures } from "./recovery";
import {
    afterLoadFigures,
    apiFigures,
    crowdFigures,
    installLoadTools,
    overloadFigures,
    rebootFigures,
    staticFileFigures,
    switchFigures,
    tlsFigures,
} from "./serving";

const OUT_DIR = join(__dirname, "..", "build", "bench");

async function measure(server: Sandbox, figures: Figure[]): Promise<void> {
    const run: BenchRun = { server, www: wwwHostName(server.domain), inputs: { domain: server.domain }, figures, loads: [] };
    await provisioningFigures(run, buildPlan({ release: await buildRelease() }));
    const idle = await memory(server);
    await installLoadTools(server);
    const logBytesBefore = await logBytes(server);
    await staticFileFigures(run);
    await apiFigures(run);
    await crowdFigures(run);
    const newRelease = await switchFigures(run);
    await afterLoadFigures(run, idle, logBytesBefore);
    await overloadFigures(run);
    await rebootFigures(run);
    await tlsFigures(run, newRelease);
}

async function servingFigures(figures: Figure[]): Promise<void> {
    const server = await startSandbox({ name: "bench", log: benchLog, memoryLimitMiB: SERVER_MEMORY_MIB });
    try {
        await measure(server, figures);
    } finally {
        await destroySandbox("bench", benchLog);
    }
}

const PARTS: Readonly<Record<string, (figures: Figure[]) => Promise<void>>> = {
    serving: servingFigures,
    engine: async (figures) => engineOnlyFigures(figures, buildPlan({ release: await buildRelease() })),
    recovery: recoveryFigures,
    move: moveFigures,
};

async function main(): Promise<void> {
    const chosen = process.argv.slice(2);
    const unknown = chosen.filter((part) => !(part in PARTS));
    if (unknown.length > 0) {
        throw new Error(
            `no part called ${unknown.join(", ")}; the parts are ${Object.keys(PARTS).join(", ")}, or none for serving, recovery and move.`,
        );
    }
    const figures: Figure[] = [];
    // serving's figures include the engine's, on the server they measure.
    for (const part of chosen.length === 0 ? ["serving", "recovery", "move"] : chosen) {
        await PARTS[part](figures);
    }

    const table = renderTable(figures);
    console.log(`\n${table}\n`);
    mkdirSync(OUT_DIR, { recursive: true });
    const when = new Date().toISOString();
    writeFileSync(
        join(OUT_DIR, "results.json"),
        `${JSON.stringify({ when, memoryLimitMiB: SERVER_MEMORY_MIB, figures: figures.map((figure) => ({ ...figure, verdict: verdict(figure) })) }, null, 2)}\n`,
    );
    writeFileSync(
        join(OUT_DIR, "results.md"),
        `# webstack benchmark, ${when}\n\nA sandbox server held to ${SERVER_MEMORY_MIB} MiB without swap.\n\n${table}\n`,
    );
    console.log(`written: ${join(OUT_DIR, "results.json")} and results.md`);
}

main().catch((error: unknown) => {
    console.error(`bench: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
});
