/**
 * `npm run bench`: the stack's speed and memory on a sandbox server held to a t3.micro's memory
 * (1 GiB, no swap), each figure beside a baseline measured in the same run (ratios hold from machine
 * to machine where absolute times do not). Prints a table and writes build/bench/results.json and
 * results.md. Not a test: it runs for minutes, and CI does not run it.
 *
 * The figures: cold provision against `apt-get install` of the same packages (with the same
 * security updates) on an identical fresh server, and a no-change re-run; a static file through the
 * stack's nginx against a minimal nginx serving the same file; an API read and an API write
 * through nginx against the same app instances reached directly; a deploy and a rollback under 64
 * keep-alive connections; memory of nginx, the app instances, MariaDB and journald, idle and after
 * the load; log bytes per 100,000 requests; a 60 s overload at 256 connections (anything killed or
 * restarted, the server's peak memory, the kernel's out-of-memory order); new TLS connections per
 * second, full and resumed; the real Pulumi engine's no-change `pulumi up` and an up changing one file,
 * beside the sandbox runner doing the same. wrk (Debian's; C, keep-alive, latency percentiles, scriptable for
 * POSTs) runs inside the server, so the sandbox's network is not what is measured; the TLS
 * handshakes come from this host.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildRelease } from "../release/build";
import { buildPlan, type Plan, type PlanInputs } from "../provisioning";
import { shellQuote } from "../provisioning/script";
import { ACCESS_LOG_FILE, appInstanceUnit, appPorts, CURRENT_LINK, DEFAULT_APP_INSTANCES, ROLLBACK_COMMAND } from "../provisioning/layout";
import { wwwHostName } from "../provisioning/site";
import { PENDING_SECURITY_UPDATES_COMMAND, SERVER_PACKAGES } from "../provisioning/steps/packages";
import { releaseSteps } from "../provisioning/steps/release";
import { startAcmeServer, trustAcmeServer } from "../sandbox/acme";
import { existingServerConfig, openEngineStack, sandboxServer } from "../sandbox/engine";
import { sandboxPaths } from "../sandbox/layout";
import { applyPlan } from "../sandbox/runner";
import { destroySandbox, startSandbox, type Sandbox } from "../sandbox/sandbox";
import { sshRunAsRoot } from "../sandbox/ssh";
import { medianRound, parseWrk, renderTable, verdict, type Figure, type WrkResult } from "./measure";
import { handshakeRate } from "./tls";

const OUT_DIR = join(__dirname, "..", "build", "bench");
/** A t3.micro's memory; the server gets no swap either. */
const SERVER_MEMORY_MIB = 1024;
const WRK_SECONDS = 10;
const SWITCH_SECONDS = 40;
const SWITCH_CONNECTIONS = 64;
const OVERLOAD_SECONDS = 60;
const OVERLOAD_CONNECTIONS = 256;
const TLS_SECONDS = 10;
const TLS_CLIENTS = 8;
const MINIMAL_NGINX_PORT = 8081;
const API_READ = "/api/posts?limit=5";
const API_READ_ROUNDS = 5;
const POST_SCRIPT = "/root/bench-post.lua";

const log = (line: string) => console.log(`  ${line}`);

async function timed<T>(work: () => Promise<T>): Promise<{ result: T; seconds: number }> {
    const started = Date.now();
    const result = await work();
    return { result, seconds: (Date.now() - started) / 1000 };
}

function onServer(server: Sandbox, command: string): Promise<string> {
    return sshRunAsRoot(server.ssh, command);
}

interface WrkOptions {
    readonly connections: number;
    readonly seconds?: number;
    readonly hostHeader?: string;
    readonly script?: string;
}

function wrkCommand(url: string, options: WrkOptions): string {
    const host = options.hostHeader === undefined ? "" : `-H 'Host: ${options.hostHeader}' `;
    const script = options.script === undefined ? "" : `-s ${options.script} `;
    return `wrk -t2 -c${options.connections} -d${options.seconds ?? WRK_SECONDS}s --timeout 10s --latency ${host}${script}'${url}'`;
}

function wrk(server: Sandbox, url: string, options: WrkOptions): Promise<WrkResult> {
    return onServer(server, wrkCommand(url, options)).then(parseWrk);
}

/** Runs wrk for `options.seconds` while `during` runs (after a few seconds of load); returns both. */
async function wrkDuring<T>(
    server: Sandbox,
    url: string,
    options: WrkOptions,
    during: () => Promise<T>,
): Promise<{ load: WrkResult; result: T }> {
    const load = wrk(server, url, options);
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    const result = await during();
    return { load: await load, result };
}

/** RSS in MiB of nginx (all processes), each app instance, MariaDB and journald. */
async function memory(server: Sandbox): Promise<Record<string, number>> {
    const rss = async (command: string) => Number((await onServer(server, command)).trim() || "0") / 1024;
    const usage: Record<string, number> = {
        nginx: await rss("ps -C nginx -o rss= | awk '{ sum += $1 } END { print sum }'"),
        mariadb: await rss("ps -C mariadbd -o rss= | awk '{ sum += $1 } END { print sum }'"),
        journald: await rss("ps -C systemd-journald -o rss= | awk '{ sum += $1 } END { print sum }'"),
    };
    for (const port of appPorts(DEFAULT_APP_INSTANCES)) {
        usage[`app ${port}`] = await rss(`ps -o rss= -p "$(systemctl show -p MainPID --value ${appInstanceUnit(port)})"`);
    }
    return usage;
}

/** Bytes the logs hold now: the access log, nginx's error log and the journal's entries. */
async function logBytes(server: Sandbox): Promise<number> {
    return Number(
        (
            await onServer(
                server,
                `echo $(( $(cat ${ACCESS_LOG_FILE} /var/log/nginx/*.log | wc -c) + $(journalctl -o export --no-pager | wc -c) ))`,
            )
        ).trim(),
    );
}

/** The processes of the stack that the kernel would choose after MariaDB when memory runs out (higher oom_score goes first). */
async function oomScores(server: Sandbox): Promise<Record<string, number>> {
    const lines = await onServer(
        server,
        "for pid in $(pgrep -x 'mariadbd|node|nginx|systemd-journal'); do echo \"$(cat /proc/$pid/comm) $(cat /proc/$pid/oom_score)\"; done",
    );
    const scores: Record<string, number> = {};
    for (const [name, score] of lines
        .trim()
        .split("\n")
        .map((line) => line.split(" "))) {
        scores[name] = Math.min(scores[name] ?? Infinity, Number(score));
    }
    return scores;
}

/** Restarts of the stack's units since boot, and kills by the out-of-memory killer in the server's cgroup. */
async function casualties(server: Sandbox): Promise<{ restarts: number; oomKills: number }> {
    const units = ["nginx", "mariadb", ...appPorts(DEFAULT_APP_INSTANCES).map(appInstanceUnit)];
    const restarts = (await onServer(server, `systemctl show -p NRestarts --value ${units.join(" ")}`)).trim().split("\n").map(Number);
    const oomControl = readFileSync(join(sandboxPaths(server.name).memoryCgroup, "memory.oom_control"), "utf8");
    return { restarts: restarts.reduce((sum, count) => sum + count, 0), oomKills: Number(/^oom_kill (\d+)$/m.exec(oomControl)?.[1] ?? 0) };
}

/**
 * The server's resident memory (its memory cgroup's, page cache left out: the kernel gives cache
 * back under pressure), sampled every half second until stopped; stop() returns the highest in MiB.
 */
function sampleRss(server: Sandbox): { stop(): number } {
    const stat = join(sandboxPaths(server.name).memoryCgroup, "memory.stat");
    let peak = 0;
    const sample = () => {
        const rss = /^total_rss (\d+)$/m.exec(readFileSync(stat, "utf8"));
        peak = Math.max(peak, Number(rss?.[1] ?? 0) / 1024 / 1024);
    };
    sample();
    const timer = setInterval(sample, 500);
    return {
        stop: () => {
            clearInterval(timer);
            sample();
            return peak;
        },
    };
}

/** The plan applied to another fresh server, timed; the server is removed after. */
async function coldProvisionSeconds(plan: Plan, inputs: PlanInputs): Promise<number> {
    const fresh = await startSandbox({ name: "bench-cold", log, memoryLimitMiB: SERVER_MEMORY_MIB });
    try {
        return (await timed(() => applyPlan(plan, fresh.ssh, inputs, { log: () => undefined }))).seconds;
    } finally {
        await destroySandbox("bench-cold", log);
    }
}

/**
 * `apt-get install` of what the plan installs, on another fresh server: the same packages and the
 * same security updates (the plan's packages step installs both in one transaction).
 */
async function bareInstallSeconds(): Promise<number> {
    const bare = await startSandbox({ name: "bench-bare", log, memoryLimitMiB: SERVER_MEMORY_MIB });
    try {
        const install = [
            "apt-get update -q >/dev/null",
            `updates="$(${PENDING_SECURITY_UPDATES_COMMAND})"`,
            `DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends ${SERVER_PACKAGES.join(" ")} $updates >/dev/null`,
        ].join(" && ");
        return (await timed(() => onServer(bare, install))).seconds;
    } finally {
        await destroySandbox("bench-bare", log);
    }
}

/**
 * The real Pulumi engine doing the same work as the sandbox's runner on the same server: a no-change
 * `pulumi up` (preview included, as `pulumi up` does it) beside the runner's no-change re-run, and a
 * `pulumi up` after a change of one rendered file (the app's environment, whose step restarts the
 * instances one at a time) beside the runner applying the plan with such a change.
 */
async function engineFigures(
    server: Sandbox,
    runner: { plan: Plan; inputs: PlanInputs; runnerNoChangeSeconds: number },
    figures: Figure[],
): Promise<void> {
    console.log("the real Pulumi engine on the same server: adopting it, a no-change up, and an up that changes one file");
    const stateDir = mkdtempSync(join(tmpdir(), "webstack-bench-engine-"));
    try {
        const stack = await openEngineStack({
            stateDir,
            stackName: "bench",
            passphrase: "bench",
            config: existingServerConfig(sandboxServer(server)),
        });
        const adopted = await timed(() => stack.up());
        const noChange = await timed(() => stack.up());
        figures.push({
            name: "no-change pulumi up",
            value: noChange.seconds,
            unit: "s",
            baseline: runner.runnerNoChangeSeconds,
            target: { kind: "at-most", bound: 15 },
            detail: `${JSON.stringify(noChange.result.summary.resourceChanges)}; the baseline is the runner's no-change re-run; adopting the configured server took ${adopted.seconds.toFixed(1)} s`,
        });
        const runnerChange = await timed(() =>
            applyPlan(runner.plan, server.ssh, { ...runner.inputs, appEnvironment: { BENCH_TOKEN: "runner" } }, { log: () => undefined }),
        );
        await stack.setConfig("webstack:appEnvironment.BENCH_TOKEN", { value: "engine", secret: true }, true);
        const engineChange = await timed(() => stack.up());
        figures.push({
            name: "pulumi up changing one file",
            value: engineChange.seconds,
            unit: "s",
            baseline: runnerChange.seconds,
            detail: `${JSON.stringify(engineChange.result.summary.resourceChanges)}; the baseline is the runner applying the plan with the same kind of change`,
        });
    } finally {
        rmSync(stateDir, { recursive: true, force: true });
    }
}

function failed(result: WrkResult): number {
    return result.non2xx + result.socketErrors;
}

async function measure(server: Sandbox, figures: Figure[]): Promise<void> {
    const plan = buildPlan({ release: await buildRelease() });
    const inputs = { domain: server.domain };
    const www = wwwHostName(server.domain);
    const quiet = { log: () => undefined };

    // Both download from Debian's mirror, whose speed varies from minute to minute: each is timed
    // twice, alternately, on fresh servers, and the faster run of each counts.
    console.log("cold provision against apt-get install of the same packages and security updates, each twice on fresh servers");
    const bare = [await bareInstallSeconds()];
    const colds = [(await timed(() => applyPlan(plan, server.ssh, inputs, quiet))).seconds];
    bare.push(await bareInstallSeconds());
    colds.push(await coldProvisionSeconds(plan, inputs));
    const rerun = await timed(() => applyPlan(plan, server.ssh, inputs, quiet));
    figures.push({
        name: "cold provision",
        value: Math.min(...colds),
        unit: "s",
        baseline: Math.min(...bare),
        target: { kind: "ratio-at-most", bound: 1.5 },
        detail: `runs ${colds.map((seconds) => seconds.toFixed(1)).join(" and ")} s; baseline ${bare.map((seconds) => seconds.toFixed(1)).join(" and ")} s`,
    });
    figures.push({ name: "no-change re-run", value: rerun.seconds, unit: "s", target: { kind: "at-most", bound: 5 } });
    await engineFigures(server, { plan, inputs, runnerNoChangeSeconds: rerun.seconds }, figures);

    const idle = await memory(server);
    await onServer(server, "DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends wrk >/dev/null");
    await onServer(
        server,
        `printf '%s\\n' 'wrk.method = "POST"' 'wrk.headers["Content-Type"] = "application/json"' 'wrk.body = [[{"author":"bench","body":"A post from the benchmark."}]]' >${POST_SCRIPT}`,
    );
    const logsBefore = await logBytes(server);
    const loads: WrkResult[] = [];

    console.log("static file: the stack's nginx against a minimal nginx serving the same file");
    const minimalNginx = [
        "pid /tmp/minimal-nginx.pid; error_log /tmp/minimal-nginx.log; worker_processes auto; events { worker_connections 4096; }",
        `http { access_log off; sendfile on; server { listen 127.0.0.1:${MINIMAL_NGINX_PORT}; root ${CURRENT_LINK}/public; } }`,
    ];
    await onServer(
        server,
        `printf '%s\\n' ${minimalNginx.map(shellQuote).join(" ")} >/tmp/minimal-nginx.conf && nginx -c /tmp/minimal-nginx.conf`,
    );
    const stackStatic = await wrk(server, "http://127.0.0.1/app.css", { connections: 32, hostHeader: www });
    const minimalStatic = await wrk(server, `http://127.0.0.1:${MINIMAL_NGINX_PORT}/app.css`, { connections: 32 });
    await onServer(server, "nginx -c /tmp/minimal-nginx.conf -s stop");
    loads.push(stackStatic);
    figures.push({
        name: "static file",
        value: stackStatic.requestsPerSecond,
        unit: "req/s",
        baseline: minimalStatic.requestsPerSecond,
        target: { kind: "ratio-at-least", bound: 0.95 },
    });
    figures.push({
        name: "static file p50 / p99",
        value: stackStatic.p99,
        unit: "ms",
        baseline: minimalStatic.p99,
        detail: `p50 ${stackStatic.p50.toFixed(1)} ms`,
    });

    const ports = appPorts(DEFAULT_APP_INSTANCES);
    const direct = (path: string, script?: string) =>
        Promise.all(ports.map((port) => wrk(server, `http://127.0.0.1:${port}${path}`, { connections: 32 / ports.length, script })));
    const sum = (results: readonly WrkResult[]) => results.reduce((total, result) => total + result.requestsPerSecond, 0);
    const worstP99 = (results: readonly WrkResult[]) => Math.max(...results.map((result) => result.p99));

    console.log(
        `API read and write: through nginx against the same instances reached directly (after a warm-up; reads: the median of ${API_READ_ROUNDS} alternating rounds)`,
    );
    // The first load on the app compiles its hot paths and fills MariaDB's buffer pool: whichever side ran first would pay for it.
    const warmUp = await wrk(server, `http://127.0.0.1${API_READ}`, { connections: 32, hostHeader: www, seconds: 5 });
    const readRounds = [];
    for (let round = 0; round < API_READ_ROUNDS; round++) {
        const proxied = await wrk(server, `http://127.0.0.1${API_READ}`, { connections: 32, hostHeader: www });
        const directs = await direct(API_READ);
        readRounds.push({ value: proxied.requestsPerSecond, baseline: sum(directs), proxied, directs });
    }
    const read = medianRound(readRounds);
    const proxiedWrite = await wrk(server, "http://127.0.0.1/api/posts", { connections: 32, hostHeader: www, script: POST_SCRIPT });
    const directWrite = await direct("/api/posts", POST_SCRIPT);
    loads.push(warmUp, ...readRounds.map((round) => round.proxied), proxiedWrite);
    const roundRatios = readRounds.map((round) => (round.value / round.baseline).toFixed(2)).join(", ");
    figures.push({
        name: "API read",
        value: read.value,
        unit: "req/s",
        baseline: read.baseline,
        target: { kind: "ratio-at-least", bound: 0.8 },
        detail: `rounds ${roundRatios}`,
    });
    figures.push({
        name: "API read p99",
        value: read.proxied.p99,
        unit: "ms",
        baseline: worstP99(read.directs),
        detail: `p50 ${read.proxied.p50.toFixed(1)} ms`,
    });
    figures.push({ name: "API write", value: proxiedWrite.requestsPerSecond, unit: "req/s", baseline: sum(directWrite) });
    figures.push({
        name: "API write p99",
        value: proxiedWrite.p99,
        unit: "ms",
        baseline: worstP99(directWrite),
        detail: `p50 ${proxiedWrite.p50.toFixed(1)} ms`,
    });

    console.log(`deploy and rollback, each under ${SWITCH_CONNECTIONS} keep-alive connections for ${SWITCH_SECONDS} s`);
    const switchLoad = { connections: SWITCH_CONNECTIONS, seconds: SWITCH_SECONDS, hostHeader: www };
    const newRelease = await buildRelease({ stamp: `bench ${new Date().toISOString()}` });
    const deploy = await wrkDuring(server, `http://127.0.0.1${API_READ}`, switchLoad, () =>
        timed(() => applyPlan(releaseSteps(newRelease), server.ssh, inputs, quiet)),
    );
    const rollback = await wrkDuring(server, `http://127.0.0.1${API_READ}`, switchLoad, () =>
        timed(() => onServer(server, ROLLBACK_COMMAND)),
    );
    loads.push(deploy.load, rollback.load);
    for (const [name, run] of [
        ["deploy", deploy],
        ["rollback", rollback],
    ] as const) {
        const detail = `${run.load.requests} requests, ${run.load.non2xx} non-2xx, ${run.load.socketErrors} socket errors`;
        figures.push({
            name: `${name}: failed requests`,
            value: failed(run.load),
            unit: "",
            target: { kind: "at-most", bound: 0 },
            detail,
        });
        figures.push({ name: `${name}: requests`, value: run.load.requests, unit: "", target: { kind: "at-least", bound: 100_000 } });
        figures.push({
            name: `${name}: p99 over the window`,
            value: run.load.p99,
            unit: "ms",
            detail: `p50 ${run.load.p50.toFixed(1)} ms`,
        });
        figures.push({ name: `${name}: until every instance serves it`, value: run.result.seconds, unit: "s" });
    }

    const loaded = await memory(server);
    for (const [process, mib] of Object.entries(loaded)) {
        figures.push({ name: `RSS ${process} after the load`, value: mib, unit: "MiB", baseline: idle[process] });
    }
    figures.push({
        name: "RSS of the whole stack after the load",
        value: Object.values(loaded).reduce((total, mib) => total + mib, 0),
        unit: "MiB",
        target: { kind: "at-most", bound: 450 },
    });
    const requests = loads.reduce((total, result) => total + result.requests, 0);
    figures.push({
        name: "log bytes per 100,000 requests",
        value: ((((await logBytes(server)) - logsBefore) / requests) * 100_000) / 1024 / 1024,
        unit: "MiB",
        detail: `${requests} requests`,
    });

    console.log(`overload: ${OVERLOAD_CONNECTIONS} connections for ${OVERLOAD_SECONDS} s, reads and writes, in ${SERVER_MEMORY_MIB} MiB`);
    const before = await casualties(server);
    const sampling = sampleRss(server);
    const [overloadRead, overloadWrite] = await Promise.all([
        wrk(server, `http://127.0.0.1${API_READ}`, { connections: OVERLOAD_CONNECTIONS / 2, seconds: OVERLOAD_SECONDS, hostHeader: www }),
        wrk(server, "http://127.0.0.1/api/posts", {
            connections: OVERLOAD_CONNECTIONS / 2,
            seconds: OVERLOAD_SECONDS,
            hostHeader: www,
            script: POST_SCRIPT,
        }),
    ]);
    const overloadPeak = sampling.stop();
    const after = await casualties(server);
    const overload = [overloadRead, overloadWrite];
    figures.push({
        name: "overload: processes killed or restarted",
        value: after.restarts - before.restarts + after.oomKills - before.oomKills,
        unit: "",
        target: { kind: "at-most", bound: 0 },
        detail: `${overload.reduce((total, result) => total + result.requests, 0)} requests, ${overload.reduce((total, result) => total + result.non2xx, 0)} answered 503, ${overload.reduce((total, result) => total + result.socketErrors, 0)} socket errors`,
    });
    figures.push({
        name: "overload: peak RSS of the whole server",
        value: overloadPeak,
        unit: "MiB",
        target: { kind: "at-most", bound: SERVER_MEMORY_MIB },
    });
    const scores = await oomScores(server);
    const chosenAfterMariadb = Object.entries(scores).filter(([name, score]) => name !== "mariadbd" && score < (scores.mariadbd ?? 0));
    figures.push({
        name: "stack processes the OOM killer takes after MariaDB",
        value: chosenAfterMariadb.length,
        unit: "",
        target: { kind: "at-most", bound: 0 },
        detail: Object.entries(scores)
            .map(([name, score]) => `${name} ${score}`)
            .join(", "),
    });

    console.log(`TLS: new connections per second from ${TLS_CLIENTS} clients, full handshakes and resumed sessions`);
    const acme = await startAcmeServer(server);
    try {
        await trustAcmeServer(server, acme);
        await applyPlan(
            buildPlan({ release: newRelease, tls: { email: `admin@${server.domain}`, directoryUrl: acme.directoryUrl } }),
            server.ssh,
            inputs,
            quiet,
        );
        const target = { address: server.address, serverName: www, trustedCaPem: acme.rootCaPem };
        const full = await handshakeRate(target, { seconds: TLS_SECONDS, clients: TLS_CLIENTS, resume: false });
        const resumed = await handshakeRate(target, { seconds: TLS_SECONDS, clients: TLS_CLIENTS, resume: true });
        figures.push({
            name: "TLS connections, resumed sessions",
            value: resumed.connectionsPerSecond,
            unit: "conn/s",
            baseline: full.connectionsPerSecond,
            target: { kind: "ratio-at-least", bound: 1.1 },
            detail: `${resumed.resumed} of ${resumed.connections} resumed; full handshakes: ${full.connections}, ${full.resumed} resumed`,
        });
    } finally {
        await acme.stop();
    }
}

async function main(): Promise<void> {
    const figures: Figure[] = [];
    const server = await startSandbox({ name: "bench", log, memoryLimitMiB: SERVER_MEMORY_MIB });
    try {
        await measure(server, figures);
    } finally {
        await destroySandbox("bench", log);
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
