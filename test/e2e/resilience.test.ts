import { expect } from "chai";
import * as http from "http";
import * as net from "net";
import { buildRelease } from "../../release/build";
import { APP_DATABASE, appInstanceUnit, appPorts, appSocketPath } from "../../provisioning/layout";
import { figure } from "../support/figure";
import { request, waitUntil } from "../support/http";
import { answerOutcome, describeOutcomes, errorOutcome, startLoad, type LoadReport, type LoadTarget, type Outcome } from "../support/load";
import { provisionSandbox, type TestSandbox } from "../support/sandbox";

const SANDBOX_NAME = "e2e-resilience";
const APP_INSTANCES = 2;
const API_READ = "/api/posts?limit=5";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function describeLoad(report: LoadReport): string {
    return `${report.sent} requests in ${report.seconds.toFixed(1)} s (${describeOutcomes(report.outcomes)}), longest wait ${report.slowestSeconds.toFixed(2)} s`;
}

interface WriteReport {
    /** Posts the writers set out to store, each under its own idempotency key. */
    readonly submissions: number;
    /** Requests sent, first attempts and retries. */
    readonly attempts: number;
    readonly outcomes: Readonly<Record<Outcome, number>>;
    /** Answers the writers threw away as if the connection had dropped on the way back (every tenth post's first 201). */
    readonly lost: number;
    /** Retries answered with the post an earlier attempt had stored (Idempotent-Replayed). */
    readonly replayed: number;
    /** Post id for every body, as the API acknowledged it. */
    readonly acknowledged: ReadonlyMap<string, number>;
    /** Submissions still unacknowledged when their retries ran out. */
    readonly abandoned: number;
}

/**
 * Writers that store posts the way the front end does: each post under a fresh Idempotency-Key,
 * sent again with the same key after a 503 or a lost answer, until it is acknowledged. The first
 * 201 of every tenth post is thrown away, as if the answer had been lost on its way back: the
 * server stored the post, the client does not know. Each writer finishes the post it is on when
 * stopped.
 */
function startWriters(site: LoadTarget, count: number, runId: string): { stop(): Promise<WriteReport> } {
    const outcomes: Record<Outcome, number> = {};
    const acknowledged = new Map<string, number>();
    let submissions = 0;
    let attempts = 0;
    let lost = 0;
    let replayed = 0;
    let abandoned = 0;
    let stopping = false;
    const deadline = Date.now() + 120_000;

    const attempt = (agent: http.Agent, key: string): Promise<{ id?: number; replayed: boolean }> =>
        new Promise((resolve) => {
            const payload = JSON.stringify({ author: "resilience", body: key });
            const outgoing = http.request(
                {
                    host: site.address,
                    port: 80,
                    method: "POST",
                    path: "/api/posts",
                    agent,
                    timeout: 5_000,
                    headers: {
                        Host: site.hostName,
                        "Content-Type": "application/json",
                        "Content-Length": Buffer.byteLength(payload),
                        "Idempotency-Key": key,
                    },
                },
                (response) => {
                    const chunks: Buffer[] = [];
                    response.on("data", (chunk: Buffer) => chunks.push(chunk));
                    response.on("end", () => {
                        const outcome = answerOutcome(response.statusCode ?? 0, response.headers);
                        outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
                        const created = response.statusCode === 201;
                        resolve({
                            id: created ? (JSON.parse(Buffer.concat(chunks).toString()) as { id: number }).id : undefined,
                            replayed: response.headers["idempotent-replayed"] === "true",
                        });
                    });
                },
            );
            outgoing.on("timeout", () => outgoing.destroy(Object.assign(new Error("timed out"), { code: "ETIMEDOUT" })));
            outgoing.on("error", (error: NodeJS.ErrnoException) => {
                const outcome = errorOutcome(error);
                outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
                resolve({ replayed: false });
            });
            outgoing.end(payload);
        });

    const writer = async (index: number) => {
        const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
        for (let post = 0; !stopping && Date.now() < deadline; post += 1) {
            const key = `${runId}-${index}-${post}`;
            submissions += 1;
            let answer: { id?: number; replayed: boolean } = { replayed: false };
            let loseNextAnswer = post % 10 === 0;
            for (let tries = 0; answer.id === undefined && tries < 200 && Date.now() < deadline; tries += 1) {
                if (tries > 0) {
                    await sleep(100);
                }
                attempts += 1;
                answer = await attempt(agent, key);
                if (loseNextAnswer && answer.id !== undefined) {
                    loseNextAnswer = false;
                    lost += 1;
                    answer = { replayed: false };
                }
            }
            if (answer.id === undefined) {
                abandoned += 1;
            } else {
                acknowledged.set(key, answer.id);
                replayed += answer.replayed ? 1 : 0;
            }
        }
        agent.destroy();
    };
    const writers = Promise.all(Array.from({ length: count }, (_, index) => writer(index)));
    return {
        async stop() {
            stopping = true;
            await writers;
            return { submissions, attempts, outcomes, lost, replayed, acknowledged, abandoned };
        },
    };
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
        const writers = startWriters(site, 16, runId);
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
