/**
 * `npm run bench`: the stack's speed and memory on a sandbox server, each figure beside a baseline
 * measured in the same run (ratios hold from machine to machine where absolute times do not).
 * Prints a table and writes build/bench/results.json and results.md. Not a test: it runs for
 * minutes, and CI does not run it.
 *
 * Figures so far: cold provision against `apt-get install` of the same packages on an identical
 * fresh server; a no-change re-run; a static file through the stack's nginx against a minimal nginx
 * serving the same file; an API read through nginx against the same app instances reached directly;
 * memory of nginx, the app instances, MariaDB and journald, idle and after the load. wrk (Debian's)
 * runs inside the server, so the sandbox's network is not what is measured.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildRelease } from "../app/build";
import { buildPlan } from "../provisioning";
import { appInstanceUnit, appPorts, CURRENT_LINK, DEFAULT_APP_INSTANCES } from "../provisioning/layout";
import { wwwHostName } from "../provisioning/site";
import { BASE_PACKAGES } from "../provisioning/steps/base";
import { applyPlan } from "../sandbox/runner";
import { destroySandbox, startSandbox, type Sandbox } from "../sandbox/sandbox";
import { sshRunAsRoot } from "../sandbox/ssh";
import { parseWrk, renderTable, verdict, type Figure, type WrkResult } from "./measure";

const OUT_DIR = join(__dirname, "..", "build", "bench");
const WRK_SECONDS = 10;
const MINIMAL_NGINX_PORT = 8081;

const log = (line: string) => console.log(`  ${line}`);

async function timed<T>(work: () => Promise<T>): Promise<{ result: T; seconds: number }> {
    const started = Date.now();
    const result = await work();
    return { result, seconds: (Date.now() - started) / 1000 };
}

function wrk(server: Sandbox, url: string, connections: number, hostHeader?: string): Promise<WrkResult> {
    const host = hostHeader === undefined ? "" : `-H 'Host: ${hostHeader}' `;
    return sshRunAsRoot(server.ssh, `wrk -t2 -c${connections} -d${WRK_SECONDS}s --latency ${host}'${url}'`).then(parseWrk);
}

/** RSS in MiB of nginx (all processes), each app instance, MariaDB and journald. */
async function memory(server: Sandbox): Promise<Record<string, number>> {
    const rss = async (command: string) => Number((await sshRunAsRoot(server.ssh, command)).trim() || "0") / 1024;
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

async function bareInstallSeconds(): Promise<number> {
    const bare = await startSandbox({ name: "bench-bare", log });
    try {
        const install = `apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends ${BASE_PACKAGES.join(" ")} >/dev/null`;
        return (await timed(() => sshRunAsRoot(bare.ssh, install))).seconds;
    } finally {
        await destroySandbox("bench-bare", log);
    }
}

async function main(): Promise<void> {
    const figures: Figure[] = [];
    console.log("baseline: apt-get install of the same packages on a fresh server");
    const bareSeconds = await bareInstallSeconds();
    const server = await startSandbox({ name: "bench", log });
    try {
        const plan = buildPlan({ release: await buildRelease() });
        const inputs = { domain: server.domain };
        console.log("cold provision, then a no-change re-run");
        const cold = await timed(() => applyPlan(plan, server.ssh, inputs, { log: () => undefined }));
        const rerun = await timed(() => applyPlan(plan, server.ssh, inputs, { log: () => undefined }));
        figures.push({ name: "cold provision", value: cold.seconds, unit: "s", baseline: bareSeconds, target: { kind: "ratio-at-most", bound: 1.5 } });
        figures.push({ name: "no-change re-run", value: rerun.seconds, unit: "s", target: { kind: "at-most", bound: 5 } });

        const idle = await memory(server);
        await sshRunAsRoot(server.ssh, "DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends wrk >/dev/null");
        const www = wwwHostName(server.domain);

        console.log("static file: the stack's nginx against a minimal nginx serving the same file");
        await sshRunAsRoot(
            server.ssh,
            `printf '%s\\n' 'pid /tmp/minimal-nginx.pid; error_log /tmp/minimal-nginx.log; worker_processes auto; events { worker_connections 4096; }' 'http { access_log off; sendfile on; server { listen 127.0.0.1:${MINIMAL_NGINX_PORT}; root ${CURRENT_LINK}/public; } }' >/tmp/minimal-nginx.conf && nginx -c /tmp/minimal-nginx.conf`,
        );
        const stackStatic = await wrk(server, "http://127.0.0.1/app.css", 32, www);
        const minimalStatic = await wrk(server, `http://127.0.0.1:${MINIMAL_NGINX_PORT}/app.css`, 32);
        await sshRunAsRoot(server.ssh, "nginx -c /tmp/minimal-nginx.conf -s stop");
        figures.push({ name: "static file", value: stackStatic.requestsPerSecond, unit: "req/s", baseline: minimalStatic.requestsPerSecond, target: { kind: "ratio-at-least", bound: 0.95 } });
        figures.push({ name: "static file p99", value: stackStatic.p99, unit: "ms", baseline: minimalStatic.p99 });

        console.log("API read: through nginx against the same instances reached directly");
        const proxied = await wrk(server, "http://127.0.0.1/api/posts?limit=5", 32, www);
        const direct = await Promise.all(appPorts(DEFAULT_APP_INSTANCES).map((port) => wrk(server, `http://127.0.0.1:${port}/api/posts?limit=5`, 32 / DEFAULT_APP_INSTANCES)));
        const directRate = direct.reduce((sum, result) => sum + result.requestsPerSecond, 0);
        figures.push({ name: "API read", value: proxied.requestsPerSecond, unit: "req/s", baseline: directRate, target: { kind: "ratio-at-least", bound: 0.8 } });
        figures.push({ name: "API read p99", value: proxied.p99, unit: "ms", baseline: Math.max(...direct.map((result) => result.p99)) });
        figures.push({ name: "failed requests (non-2xx, socket errors)", value: [stackStatic, proxied].reduce((sum, result) => sum + result.non2xx + result.socketErrors, 0), unit: "", target: { kind: "at-most", bound: 0 } });

        const loaded = await memory(server);
        for (const [process, mib] of Object.entries(loaded)) {
            figures.push({ name: `RSS ${process} after the load`, value: mib, unit: "MiB", baseline: idle[process] });
        }
        const total = Object.values(loaded).reduce((sum, mib) => sum + mib, 0);
        figures.push({ name: "RSS of the whole stack after the load", value: total, unit: "MiB", target: { kind: "at-most", bound: 450 } });
    } finally {
        await destroySandbox("bench", log);
    }

    const table = renderTable(figures);
    console.log(`\n${table}\n`);
    mkdirSync(OUT_DIR, { recursive: true });
    const when = new Date().toISOString();
    writeFileSync(join(OUT_DIR, "results.json"), `${JSON.stringify({ when, figures: figures.map((figure) => ({ ...figure, verdict: verdict(figure) })) }, null, 2)}\n`);
    writeFileSync(join(OUT_DIR, "results.md"), `# webstack benchmark, ${when}\n\n${table}\n`);
    console.log(`written: ${join(OUT_DIR, "results.json")} and results.md`);
}

main().catch((error: unknown) => {
    console.error(`bench: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
});
