import { expect } from "chai";
import * as net from "net";
import { buildRelease } from "../../release/build";
import { APP_DATABASE, appInstanceUnit, appPorts, appSocketPath } from "../../provisioning/layout";
import { figure } from "../support/figure";
import { request, waitUntil } from "../support/http";
import { describeOutcomes, startLoad, type LoadReport, type LoadTarget } from "../support/load";
import { provisionSandbox, type TestSandbox } from "../support/sandbox";
import { startWriters } from "../support/writers";

const SANDBOX_NAME = "e2e-resilience";
const APP_INSTANCES = 2;
const API_READ = "/api/posts?limit=5";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function describeLoad(report: LoadReport): string {
    return `${report.sent} requests in ${report.seconds.toFixed(1)} s (${describeOutcomes(report.outcomes)}), longest wait ${report.slowestSeconds.toFixed(2)} s`;
}

/** Opens `count` connections that send a request header one line at a time and never finish it. */
async function startSlowClients(site: LoadTarget, count: number): Promise<{ open(): number; stop(): void }> {
    const sockets = new Set<net.Socket>();
    const connect = () =>
        new Promise<void>((resolve) => {
            const socket = net.connect({ host: site.address, port: 80 }, () => {
                socket.write(`GET / HTTP/1.1\r\nHost: ${site.hostName}\r\n`);
                resolve();
            });
            socket.on("error", () => resolve());
            socket.on("close", () => sockets.delete(socket));
            sockets.add(socket);
        });
    for (let started = 0; started < count; started += 250) {
        await Promise.all(Array.from({ length: Math.min(250, count - started) }, connect));
    }
    const drip = setInterval(() => sockets.forEach((socket) => socket.write("X-Slow: 1\r\n")), 2_000);
    return {
        open: () => sockets.size,
        stop: () => {
            clearInterval(drip);
            sockets.forEach((socket) => socket.destroy());
        },
    };
}

describe("the stack under the failures a public site meets (end to end)", function () {
    this.timeout(15 * 60_000);

    let sandbox: TestSandbox;
    let site: LoadTarget;
    const onServer = (command: string): Promise<string> => sandbox.exec(command);
    const unitProperty = async (unit: string, property: string) => (await onServer(`systemctl show -p ${property} --value ${unit}`)).trim();

    before(async () => {
        sandbox = await provisionSandbox(SANDBOX_NAME, { appInstances: APP_INSTANCES, release: await buildRelease() });
        site = { address: sandbox.address, hostName: `www.${sandbox.domain}` };
    });

    after(async () => {
        await sandbox?.destroy();
    });

    it("answers every GET while an app instance hangs, takes it out of rotation, and systemd restarts it", async () => {
        const [port] = appPorts(APP_INSTANCES);
        const unit = appInstanceUnit(port);
        const hungPid = Number(await unitProperty(unit, "MainPID"));
        const restartsBefore = Number(await unitProperty(unit, "NRestarts"));
        const load = startLoad(site, { paths: [API_READ], concurrency: 32 });
        await sleep(1_000);
        const hungAt = Date.now();
        await onServer(`kill -STOP ${hungPid}`);
        const recoveredAfter = await waitUntil(`${unit} restarted and ready`, 60, async () => {
            const pid = Number(await unitProperty(unit, "MainPID"));
            return (
                pid > 0 &&
                pid !== hungPid &&
                (await onServer(
                    `curl -fsS -o /dev/null -w '%{http_code}' --unix-socket ${appSocketPath(port)} http://localhost/readyz`,
                )) === "200"
            );
        });
        await sleep(2_000);
        const report = await load.stop();
        const watchdogKills = (
            await onServer(`journalctl -u ${unit} --since '@${Math.floor(hungAt / 1000)}' --no-pager | grep -c 'Watchdog timeout' || true`)
        ).trim();

        figure(`hung instance (SIGSTOP), 32 clients reading the API: ${describeLoad(report)}`);
        figure(`the hung instance was killed by the watchdog and served again ${recoveredAfter.toFixed(1)} s after it hung`);
        expect(report.failed, report.failures.join("\n")).to.equal(0);
        expect(Number(await unitProperty(unit, "NRestarts"))).to.equal(restartsBefore + 1);
        expect(Number(watchdogKills), "systemd's journal names the watchdog").to.be.at.least(1);
    });

    it("answers 1,000 concurrent clients with a success or a deliberate 503, never a 500, a reset or a timeout, and recovers at once", async () => {
        const load = startLoad(site, { paths: [API_READ], concurrency: 1_000, maxSeconds: 20 });
        await sleep(20_000);
        const report = await load.stop();
        const afterLoad = Date.now();
        const first = await request(site, "GET", API_READ);
        const answeredIn = (Date.now() - afterLoad) / 1000;
        const shortOfConnections = (await onServer("grep -c 'worker_connections are not enough' /var/log/nginx/error.log || true")).trim();

        figure(`1,000 concurrent clients reading the API: ${describeLoad(report)}`);
        figure(`first request after the load: HTTP ${first.status} in ${answeredIn.toFixed(3)} s`);
        expect(Object.keys(report.outcomes).sort()).to.satisfy(
            (kinds: string[]) => kinds.every((kind) => kind === "200" || kind === "503 deliberate"),
            describeOutcomes(report.outcomes),
        );
        expect(report.outcomes["200"]).to.be.above(0);
        expect(first.status).to.equal(200);
        expect(shortOfConnections).to.equal("0");
    });

    it("stores every post exactly once when clients retry their writes across a database killed with SIGKILL", async () => {
        const runId = `retry-${Date.now()}`;
        const writers = startWriters(site, 16, { runId });
        await sleep(3_000);
        await onServer("kill -9 $(pidof mariadbd)");
        const downFor = await waitUntil(
            "MariaDB back and the API reading",
            90,
            async () => (await request(site, "GET", API_READ)).status === 200,
        );
        await sleep(5_000);
        const report = await writers.stop();
        const stored = (await onServer(`mariadb -N -B -e "SELECT body, id FROM ${APP_DATABASE}.posts WHERE body LIKE '${runId}-%'"`))
            .trim()
            .split("\n")
            .filter((line) => line !== "")
            .map((line) => line.split("\t"));
        const storedCounts = new Map<string, number>();
        stored.forEach(([body]) => storedCounts.set(body, (storedCounts.get(body) ?? 0) + 1));
        const duplicates = [...storedCounts.values()].filter((count) => count > 1).length;

        figure(
            `16 writers, the database killed after 3 s of writing: ${report.submissions} posts, ${report.attempts} requests (${describeOutcomes(report.outcomes)})`,
        );
        figure(
            `API reading again ${downFor.toFixed(1)} s after the kill; ${report.lost} answers lost on purpose, ${report.replayed} retries answered with the post an earlier attempt stored; ${duplicates} duplicates`,
        );
        expect(report.abandoned).to.equal(0);
        expect(report.replayed, "every post whose answer was lost comes back on the retry").to.be.at.least(report.lost);
        expect(report.outcomes).not.to.have.property("500");
        expect(duplicates).to.equal(0);
        expect(stored.length).to.equal(report.acknowledged.size);
        expect(new Map(stored.map(([body, id]) => [body, Number(id)]))).to.deep.equal(report.acknowledged);
    });

    it("keeps answering normal requests while 3,000 clients trickle their headers (slowloris)", async () => {
        const slow = await startSlowClients(site, 3_000);
        const load = startLoad(site, { paths: ["/", API_READ], concurrency: 2, maxSeconds: 12 });
        await sleep(12_000);
        const report = await load.stop();
        const stillOpen = slow.open();
        slow.stop();

        figure(`3,000 slow-header connections (${stillOpen} still open at the end): normal requests ${describeLoad(report)}`);
        expect(report.failed, report.failures.join("\n")).to.equal(0);
        expect(report.sent).to.be.above(50);
    });
});
