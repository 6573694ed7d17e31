/**
 * The serving figures, each scenario beside its same-run baseline: a static file against a minimal
 * nginx, API reads and writes through nginx against the same instances reached directly, a deploy
 * and a rollback under load, memory and log bytes after the load, an overload within the server's
 * memory, and new TLS connections per second, full and resumed.
 */
import { buildRelease, type BuiltRelease } from "../release/build";
import { buildPlan } from "../provisioning";
import { DEFAULT_API_CACHE_SECONDS } from "../provisioning/files/nginx";
import { nginxSiteStep } from "../provisioning/steps/nginx";
import { CURRENT_LINK, appPorts, DEFAULT_APP_INSTANCES, REBOOT_REQUIRED_FILE, REBOOT_UNIT, ROLLBACK_COMMAND } from "../provisioning/layout";
import { measureOutage } from "../test/support/http";
import { shellQuote } from "../provisioning/script";
import { releaseSteps } from "../provisioning/steps/release";
import { startAcmeServer, trustAcmeServer } from "../sandbox/acme/acme";
import { applyPlan } from "../sandbox/executors/runner";
import type { Sandbox } from "../sandbox/host/state";
import {
    cpuPerRequest,
    describeCpu,
    describeLoggedFailures,
    loggedFailures,
    medianRound,
    WRK_STATUS_COUNTER,
    type WrkResult,
} from "./measure";
import {
    type BenchRun,
    casualties,
    failed,
    logBytes,
    memory,
    oomScores,
    onServer,
    sampleRss,
    SERVER_MEMORY_MIB,
    stackCpuSeconds,
    timed,
    wrk,
    wrkCounting,
    wrkDuring,
    accessLogBytes,
    accessLogFailuresSince,
} from "./probes";
import { handshakeRate } from "./tls";

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
/** The crowd's scripts: GETs, and the same POSTs as {@link POST_SCRIPT}, each counting answers by status. */
const COUNTED_READ_SCRIPT = "/root/bench-read-counted.lua";
const COUNTED_POST_SCRIPT = "/root/bench-post-counted.lua";
const CROWD_READERS = 1_000;
/** Writers enough to pass what the app instances take at once (nginx's max_conns), so that some are turned away. */
const CROWD_WRITERS = 320;
const CROWD_SECONDS = 20;
const POST_REQUEST = [
    'wrk.method = "POST"',
    'wrk.headers["Content-Type"] = "application/json"',
    'wrk.body = [[{"author":"bench","body":"A post from the benchmark."}]]',
];

const quiet = { log: () => undefined };

/** wrk on the server, and the script its writes send. */
export async function installLoadTools(server: Sandbox): Promise<void> {
    await onServer(server, "DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends wrk >/dev/null");
    const scripts: [string, string[]][] = [
        [POST_SCRIPT, POST_REQUEST],
        [COUNTED_READ_SCRIPT, [WRK_STATUS_COUNTER]],
        [COUNTED_POST_SCRIPT, [...POST_REQUEST, WRK_STATUS_COUNTER]],
    ];
    for (const [path, lines] of scripts) {
        await onServer(server, `printf '%s\\n' ${lines.map(shellQuote).join(" ")} >${path}`);
    }
}

/** The stack's nginx keeping the API's answers `seconds` (0: none), as the plan's nginx step renders it; no change when it already does. */
async function useApiCache(run: BenchRun, seconds: number): Promise<void> {
    const step = nginxSiteStep({ appInstances: DEFAULT_APP_INSTANCES, apiCacheSeconds: seconds, tls: false, includeApex: false });
    await applyPlan([step], run.server.ssh, run.inputs, quiet);
}

export async function staticFileFigures(run: BenchRun): Promise<void> {
    const { server, www } = run;
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
    run.loads.push(stackStatic);
    run.figures.push({
        name: "static file",
        value: stackStatic.requestsPerSecond,
        unit: "req/s",
        baseline: minimalStatic.requestsPerSecond,
        target: { kind: "ratio-at-least", bound: 0.95 },
    });
    run.figures.push({
        name: "static file p50 / p99",
        value: stackStatic.p99,
        unit: "ms",
        baseline: minimalStatic.p99,
        detail: `p50 ${stackStatic.p50.toFixed(1)} ms`,
    });
}

const sum = (results: readonly WrkResult[]) => results.reduce((total, result) => total + result.requestsPerSecond, 0);
const worstP99 = (results: readonly WrkResult[]) => Math.max(...results.map((result) => result.p99));

/** One round of API reads: through nginx, then the same instances reached directly, each with the stack's CPU per request. */
async function readRound(run: BenchRun) {
    const { server, www } = run;
    const ports = appPorts(DEFAULT_APP_INSTANCES);
    const cpuBefore = await stackCpuSeconds(server);
    const proxied = await wrk(server, `http://127.0.0.1${API_READ}`, { connections: 32, hostHeader: www });
    const cpuBetween = await stackCpuSeconds(server);
    const directs = await Promise.all(
        ports.map((port) => wrk(server, `http://127.0.0.1:${port}${API_READ}`, { connections: 32 / ports.length })),
    );
    const cpuAfter = await stackCpuSeconds(server);
    return {
        value: proxied.requestsPerSecond,
        baseline: sum(directs),
        proxied,
        directs,
        proxiedCpu: cpuPerRequest(cpuBefore, cpuBetween, proxied.requests),
        directCpu: cpuPerRequest(
            cpuBetween,
            cpuAfter,
            directs.reduce((total, result) => total + result.requests, 0),
        ),
    };
}

/** {@link API_READ_ROUNDS} alternating rounds; the median one, and every round's ratio. */
async function readRounds(run: BenchRun) {
    const rounds = [];
    for (let round = 0; round < API_READ_ROUNDS; round++) {
        rounds.push(await readRound(run));
    }
    run.loads.push(...rounds.map((round) => round.proxied));
    return { median: medianRound(rounds), ratios: rounds.map((round) => (round.value / round.baseline).toFixed(2)).join(", ") };
}

function cpuDetail(round: Awaited<ReturnType<typeof readRound>>): string {
    return `CPU per request: ${round.proxiedCpu.total.toFixed(0)} µs through nginx (${describeCpu(round.proxiedCpu.byProcess)}), ${round.directCpu.total.toFixed(0)} µs direct (${describeCpu(round.directCpu.byProcess)})`;
}

export async function apiFigures(run: BenchRun): Promise<void> {
    const { server, www } = run;
    const ports = appPorts(DEFAULT_APP_INSTANCES);
    console.log(
        `API read and write: through nginx, with its cache and without, against the same instances reached directly (after a warm-up; reads: the median of ${API_READ_ROUNDS} alternating rounds)`,
    );
    await useApiCache(run, DEFAULT_API_CACHE_SECONDS);
    // The first load on the app compiles its hot paths and fills MariaDB's buffer pool: whichever side ran first would pay for it.
    run.loads.push(await wrk(server, `http://127.0.0.1${API_READ}`, { connections: 32, hostHeader: www, seconds: 5 }));
    const cached = await readRounds(run);
    await useApiCache(run, 0);
    const uncached = await readRounds(run);
    const read = uncached.median;
    const proxiedWrite = await wrk(server, "http://127.0.0.1/api/posts", { connections: 32, hostHeader: www, script: POST_SCRIPT });
    const directWrite = await Promise.all(
        ports.map((port) => wrk(server, `http://127.0.0.1:${port}/api/posts`, { connections: 32 / ports.length, script: POST_SCRIPT })),
    );
    await useApiCache(run, DEFAULT_API_CACHE_SECONDS);
    run.loads.push(proxiedWrite);
    run.figures.push(
        {
            name: `API read, nginx's ${DEFAULT_API_CACHE_SECONDS} s cache`,
            value: cached.median.value,
            unit: "req/s",
            baseline: cached.median.baseline,
            target: { kind: "ratio-at-least", bound: 3 },
            detail: `rounds ${cached.ratios}; ${cpuDetail(cached.median)}`,
        },
        {
            name: "API read, cache off (the proxy's cost)",
            value: read.value,
            unit: "req/s",
            baseline: read.baseline,
            target: { kind: "ratio-at-least", bound: 0.8 },
            detail: `rounds ${uncached.ratios}; ${cpuDetail(read)}`,
        },
        {
            name: "API read p99, cache off",
            value: read.proxied.p99,
            unit: "ms",
            baseline: worstP99(read.directs),
            detail: `p50 ${read.proxied.p50.toFixed(1)} ms`,
        },
        { name: "API write", value: proxiedWrite.requestsPerSecond, unit: "req/s", baseline: sum(directWrite) },
        {
            name: "API write p99",
            value: proxiedWrite.p99,
            unit: "ms",
            baseline: worstP99(directWrite),
            detail: `p50 ${proxiedWrite.p50.toFixed(1)} ms`,
        },
    );
}

/** {@link CROWD_READERS} readers and {@link CROWD_WRITERS} writers at once for {@link CROWD_SECONDS} s, with nginx keeping the API's answers `seconds`. */
async function crowd(run: BenchRun, seconds: number) {
    await useApiCache(run, seconds);
    const options = { seconds: CROWD_SECONDS, hostHeader: run.www };
    const [readers, writers] = await Promise.all([
        wrkCounting(run.server, `http://127.0.0.1${API_READ}`, { ...options, connections: CROWD_READERS, script: COUNTED_READ_SCRIPT }),
        wrkCounting(run.server, "http://127.0.0.1/api/posts", { ...options, connections: CROWD_WRITERS, script: COUNTED_POST_SCRIPT }),
    ]);
    run.loads.push(readers.load, writers.load);
    const describe = (counted: typeof readers) =>
        `${counted.load.requests} requests (${Object.entries(counted.statuses)
            .map(([status, count]) => `${status}: ${count}`)
            .join(", ")}), ${counted.load.socketErrors} socket errors`;
    return {
        readers,
        writers,
        answered200: (readers.statuses["200"] ?? 0) / Math.max(readers.load.requests, 1),
        detail: `readers ${describe(readers)}; writers ${describe(writers)}`,
    };
}

/**
 * The crowd the cache is for: a thousand readers of the posts list and a few hundred writers at
 * once, without the cache (the baseline) and with it. Readers must be answered; writes past what
 * the app takes get a 503 with Retry-After, never a timeout, a reset or a 500.
 */
export async function crowdFigures(run: BenchRun): Promise<void> {
    console.log(`crowd: ${CROWD_READERS} readers and ${CROWD_WRITERS} writers for ${CROWD_SECONDS} s, without the API cache and with it`);
    const uncached = await crowd(run, 0);
    const cached = await crowd(run, DEFAULT_API_CACHE_SECONDS);
    const writesNeither201Nor503 =
        cached.writers.load.requests - (cached.writers.statuses["201"] ?? 0) - (cached.writers.statuses["503+retry-after"] ?? 0);
    run.figures.push(
        {
            name: "crowd: readers answered 200",
            value: cached.answered200 * 100,
            unit: "%",
            baseline: uncached.answered200 * 100,
            target: { kind: "at-least", bound: 99 },
            detail: `cache: ${cached.detail}; no cache: ${uncached.detail}`,
        },
        {
            name: "crowd: readers answered 500",
            value: cached.readers.statuses["500"] ?? 0,
            unit: "",
            target: { kind: "at-most", bound: 0 },
        },
        {
            name: "crowd: readers' resets and timeouts",
            value: cached.readers.load.socketErrors,
            unit: "",
            target: { kind: "at-most", bound: 0 },
        },
        {
            name: "crowd: writes neither 201 nor 503 with Retry-After",
            value: writesNeither201Nor503 + cached.writers.load.socketErrors,
            unit: "",
            target: { kind: "at-most", bound: 0 },
            detail: `${cached.writers.statuses["503+retry-after"] ?? 0} of ${cached.writers.load.requests} writes turned away with Retry-After`,
        },
        {
            name: "crowd: reads per second",
            value: cached.readers.load.requestsPerSecond,
            unit: "req/s",
            baseline: uncached.readers.load.requestsPerSecond,
            detail: `p99 ${cached.readers.load.p99.toFixed(1)} ms, without the cache ${uncached.readers.load.p99.toFixed(1)} ms`,
        },
    );
}

/** A deploy of a new release and a rollback from it, each under load; returns the new release. */
export async function switchFigures(run: BenchRun): Promise<BuiltRelease> {
    const { server, www } = run;
    console.log(`deploy and rollback, each under ${SWITCH_CONNECTIONS} keep-alive connections for ${SWITCH_SECONDS} s`);
    const switchLoad = { connections: SWITCH_CONNECTIONS, seconds: SWITCH_SECONDS, hostHeader: www };
    const newRelease = await buildRelease({ stamp: `bench ${new Date().toISOString()}` });
    // Each failure's status and time, from nginx's log: a count alone does not say what to fix.
    const withLoggedFailures = async <T>(load: () => Promise<T>) => {
        const logStart = await accessLogBytes(server);
        const result = await load();
        return { ...result, failures: loggedFailures(await accessLogFailuresSince(server, logStart)) };
    };
    const deploy = await withLoggedFailures(() =>
        wrkDuring(server, `http://127.0.0.1${API_READ}`, switchLoad, () =>
            timed(() => applyPlan(releaseSteps(newRelease), server.ssh, run.inputs, quiet)),
        ),
    );
    const rollback = await withLoggedFailures(() =>
        wrkDuring(server, `http://127.0.0.1${API_READ}`, switchLoad, () => timed(() => onServer(server, ROLLBACK_COMMAND))),
    );
    run.loads.push(deploy.load, rollback.load);
    for (const [name, switched] of [
        ["deploy", deploy],
        ["rollback", rollback],
    ] as const) {
        const detail = `${switched.load.requests} requests, ${switched.load.non2xx} non-2xx, ${switched.load.socketErrors} socket errors; failed in nginx's log: ${describeLoggedFailures(switched.failures)}`;
        run.figures.push(
            { name: `${name}: failed requests`, value: failed(switched.load), unit: "", target: { kind: "at-most", bound: 0 }, detail },
            { name: `${name}: requests`, value: switched.load.requests, unit: "", target: { kind: "at-least", bound: 100_000 } },
            {
                name: `${name}: p99 over the window`,
                value: switched.load.p99,
                unit: "ms",
                detail: `p50 ${switched.load.p50.toFixed(1)} ms`,
            },
            { name: `${name}: until every instance serves it`, value: switched.result.seconds, unit: "s" },
        );
    }
    return newRelease;
}

/** Memory after the loads beside `idle`, and the log bytes the loads wrote since `logBytesBefore`. */
export async function afterLoadFigures(run: BenchRun, idle: Record<string, number>, logBytesBefore: number): Promise<void> {
    const loaded = await memory(run.server);
    for (const [process, mib] of Object.entries(loaded)) {
        run.figures.push({ name: `RSS ${process} after the load`, value: mib, unit: "MiB", baseline: idle[process] });
    }
    run.figures.push({
        name: "RSS of the whole stack after the load",
        value: Object.values(loaded).reduce((total, mib) => total + mib, 0),
        unit: "MiB",
        target: { kind: "at-most", bound: 450 },
    });
    const requests = run.loads.reduce((total, result) => total + result.requests, 0);
    run.figures.push({
        name: "log bytes per 100,000 requests",
        value: ((((await logBytes(run.server)) - logBytesBefore) / requests) * 100_000) / 1024 / 1024,
        unit: "MiB",
        detail: `${requests} requests`,
    });
}

export async function overloadFigures(run: BenchRun): Promise<void> {
    const { server, www } = run;
    console.log(`overload: ${OVERLOAD_CONNECTIONS} connections for ${OVERLOAD_SECONDS} s, reads and writes, in ${SERVER_MEMORY_MIB} MiB`);
    const before = await casualties(server);
    const sampling = sampleRss(server);
    const half = { connections: OVERLOAD_CONNECTIONS / 2, seconds: OVERLOAD_SECONDS, hostHeader: www };
    const overload = await Promise.all([
        wrk(server, `http://127.0.0.1${API_READ}`, half),
        wrk(server, "http://127.0.0.1/api/posts", { ...half, script: POST_SCRIPT }),
    ]);
    const overloadPeak = sampling.stop();
    const after = await casualties(server);
    const total = (field: "requests" | "non2xx" | "socketErrors") => overload.reduce((count, result) => count + result[field], 0);
    run.figures.push(
        {
            name: "overload: processes killed or restarted",
            value: after.restarts - before.restarts + after.oomKills - before.oomKills,
            unit: "",
            target: { kind: "at-most", bound: 0 },
            detail: `${total("requests")} requests, ${total("non2xx")} answered 503, ${total("socketErrors")} socket errors`,
        },
        {
            name: "overload: peak RSS of the whole server",
            value: overloadPeak,
            unit: "MiB",
            target: { kind: "at-most", bound: SERVER_MEMORY_MIB },
        },
    );
    const scores = await oomScores(server);
    const chosenAfterMariadb = Object.entries(scores).filter(([name, score]) => name !== "mariadbd" && score < (scores.mariadbd ?? 0));
    run.figures.push({
        name: "stack processes the OOM killer takes after MariaDB",
        value: chosenAfterMariadb.length,
        unit: "",
        target: { kind: "at-most", bound: 0 },
        detail: Object.entries(scores)
            .map(([name, score]) => `${name} ${score}`)
            .join(", "),
    });
}

/**
 * A reboot for an update as the maintenance window runs it (a dump first, then the reboot), from the
 * last good answer to the first, beside a bare `systemctl reboot` of the same server.
 */
export async function rebootFigures(run: BenchRun): Promise<void> {
    const { server, www } = run;
    console.log("reboots: a bare one, then one for an update through webstack-reboot-if-required");
    const site = { address: server.address, hostName: www };
    const outageOf = async (command: string): Promise<number> => {
        const outage = measureOutage(site, "/readyz", 240);
        // The reboot may close the SSH connection before it reports; a reboot that never came shows as no outage.
        await onServer(server, command).catch(() => undefined);
        return outage;
    };
    const bare = await outageOf("systemctl --no-block reboot");
    const forUpdate = await outageOf(`touch ${REBOOT_REQUIRED_FILE} && systemctl start --no-block ${REBOOT_UNIT}`);
    run.figures.push({
        name: "reboot for an update: last good answer to first",
        value: forUpdate,
        unit: "s",
        baseline: bare,
        target: { kind: "at-most", bound: 30 },
        detail: "the site answers /readyz with 200 again; the dump before it is taken while the site serves",
    });
}

/** HTTPS from a real ACME server on the stack serving `release`, then new TLS connections per second from this host. */
export async function tlsFigures(run: BenchRun, release: BuiltRelease): Promise<void> {
    const { server, www } = run;
    console.log(`TLS: new connections per second from ${TLS_CLIENTS} clients, full handshakes and resumed sessions`);
    const acme = await startAcmeServer(server);
    try {
        await trustAcmeServer(server, acme);
        const tls = { email: `admin@${server.domain}`, directoryUrl: acme.directoryUrl };
        await applyPlan(buildPlan({ release, tls }), server.ssh, run.inputs, quiet);
        const target = { address: server.address, serverName: www, trustedCaPem: acme.rootCaPem };
        const full = await handshakeRate(target, { seconds: TLS_SECONDS, clients: TLS_CLIENTS, resume: false });
        const resumed = await handshakeRate(target, { seconds: TLS_SECONDS, clients: TLS_CLIENTS, resume: true });
        run.figures.push({
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
