import { expect } from "chai";
import * as net from "net";
import { HEALTH_CACHE_MS } from "../../app/src/app";
import { buildRelease } from "../../release/build";
import { buildPlan, type Plan, type Release } from "../../provisioning";
import {
    APP_DATABASE,
    APP_SOCKET_DIR,
    APP_USER,
    appInstanceUnit,
    appPorts,
    appSocketPath,
    BACKUP_DIR,
    BACKUP_STATE_DIR,
    REBOOT_REQUIRED_FILE,
    REBOOT_TIMER,
    REBOOT_UNIT,
    ROLLBACK_COMMAND,
} from "../../provisioning/layout";
import type { StepResult } from "../../sandbox/executors/runner";
import { measureOutage, request, waitUntil } from "../support/http";
import { startLoad, type LoadReport, type LoadTarget } from "../support/load";
import { figure } from "../support/figure";
import { metadataTokenOutcome } from "../support/metadataService";
import { startSandbox, type TestSandbox } from "../support/sandbox";

const SANDBOX_NAME = "e2e-stack";
const APP_INSTANCES = 2;
const MAINTENANCE_WINDOW = "Sun 03:00";
/** What the load sends: the static page, the API reading the database, and the liveness probe. */
const LOAD_PATHS = ["/", "/api/posts?limit=5", "/healthz", "/app.js"];

function describeLoad(what: string, report: LoadReport): string {
    const failures = report.failures.length ? ` (${report.failures.join("; ")})` : "";
    return `${what}: ${report.sent} requests in ${report.seconds.toFixed(1)} s, ${report.failed} failed${failures}, ${report.retriedOnClosedConnection} sent again after nginx closed their connection before answering`;
}

/** Whether a TCP connection to the port is accepted within the timeout (a dropped SYN counts as closed). */
function portAnswers(address: string, port: number, timeoutMs = 1500): Promise<boolean> {
    return new Promise((resolve) => {
        const socket = net.connect({ host: address, port, timeout: timeoutMs });
        socket.once("connect", () => {
            socket.destroy();
            resolve(true);
        });
        socket.once("timeout", () => {
            socket.destroy();
            resolve(false);
        });
        socket.once("error", () => resolve(false));
    });
}

describe("the whole stack on a sandbox server (end to end)", function () {
    this.timeout(20 * 60_000);

    let sandbox: TestSandbox;
    let site: LoadTarget;
    let firstRelease: Release;
    let secondRelease: Release;
    let createdPostId: number;

    const planFor = (release: Release): Plan => buildPlan({ appInstances: APP_INSTANCES, release, maintenanceWindow: MAINTENANCE_WINDOW });
    const apply = (plan: Plan): Promise<StepResult[]> => sandbox.apply(plan);
    const onServer = (command: string): Promise<string> => sandbox.exec(command);
    const mainPid = async (port: number) => Number((await onServer(`systemctl show -p MainPID --value ${appInstanceUnit(port)}`)).trim());

    before(async () => {
        const started = Date.now();
        sandbox = await startSandbox(SANDBOX_NAME, { image: "bare" });
        site = { address: sandbox.address, hostName: `www.${sandbox.domain}` };
        [firstRelease, secondRelease] = [await buildRelease(), await buildRelease({ stamp: "end-to-end second release" })];
        await apply(planFor(firstRelease));
        figure(`sandbox booted and fully provisioned in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    });

    after(async () => {
        await sandbox?.destroy();
    });

    it("resolves www.<domain> to the server through the sandbox's DNS server", async () => {
        expect(await sandbox.lookup(site.hostName)).to.deep.equal([sandbox.address]);
    });

    it("serves the static front end from nginx, not from the app", async () => {
        const page = await request(site, "GET", "/");
        expect(page.status).to.equal(200);
        expect(page.headers["content-type"]).to.match(/^text\/html/);
        expect(page.body).to.match(/<html/i);
        expect(page.headers.server).to.equal("nginx");
        expect(page.headers["x-release"], "the app answered instead of nginx").to.equal(undefined);
        expect(page.headers["x-content-type-options"]).to.equal("nosniff");
    });

    it("stores a post sent through nginx in the database and reads it back", async () => {
        const created = await request(site, "POST", "/api/posts", { author: "e2e", body: "written through nginx" });
        expect(created.status, created.body).to.equal(201);
        expect(created.headers["x-release"]).to.equal(firstRelease.id);
        createdPostId = JSON.parse(created.body).id;

        const stored = await onServer(
            `mariadb -N -B -e 'SELECT author, body FROM ${APP_DATABASE}.posts WHERE id = ${Number(createdPostId)}'`,
        );
        expect(stored.trim()).to.equal("e2e\twritten through nginx");

        const read = await request(site, "GET", `/api/posts/${createdPostId}`);
        expect(read.status).to.equal(200);
        expect(JSON.parse(read.body)).to.include({ id: createdPostId, author: "e2e", body: "written through nginx" });
    });

    it("answers bad input with a 4xx JSON error, never a 5xx", async () => {
        const invalid = await request(site, "POST", "/api/posts", { author: "", body: "x" });
        expect(invalid.status).to.equal(400);
        expect(JSON.parse(invalid.body).message).to.match(/author/);
        const malformed = await request(site, "POST", "/api/posts", "{not json");
        expect(malformed.status).to.equal(400);
        const tooLarge = await request(site, "POST", "/api/posts", { author: "a", body: "x".repeat(100_000) });
        expect(tooLarge.status).to.equal(413);
        expect(JSON.parse(tooLarge.body)).to.include({ error: "payload_too_large" });
        expect((await request(site, "GET", "/api/posts/abc")).status).to.equal(400);
    });

    it("lets in only SSH and HTTP from outside: not 443 without TLS, not the database, not the app, whose instances nginx reaches through their unix sockets", async () => {
        const open: Record<number, boolean> = {};
        for (const port of [22, 80, 443, 3306, ...appPorts(APP_INSTANCES)]) {
            open[port] = await portAnswers(sandbox.address, port);
        }
        expect(open).to.deep.equal({ 22: true, 80: true, 443: false, 3306: false, 3001: false, 3002: false });
        const listeners = await onServer("ss -Htln '( sport = :3306 or sport = :3001 or sport = :3002 )' | awk '{print $4}' | sort");
        expect(listeners.trim().split("\n")).to.deep.equal(["127.0.0.1:3001", "127.0.0.1:3002", "127.0.0.1:3306"]);
        const sockets = await onServer(`ss -Hxl | awk '{print $5}' | grep '^${APP_SOCKET_DIR}/' | sort`);
        expect(sockets.trim().split("\n")).to.deep.equal(appPorts(APP_INSTANCES).map(appSocketPath));
    });

    it("keeps the instance role's credentials for root: the app's user cannot reach the metadata service", async () => {
        expect(await metadataTokenOutcome(onServer, "root")).to.equal("http 200 exit 0");
        expect(await metadataTokenOutcome(onServer, APP_USER)).to.equal("http 000 exit 7");
    });

    it("changes nothing on a second run of the whole plan, and the site keeps answering during it", async () => {
        const load = startLoad(site, { paths: LOAD_PATHS });
        const results = await apply(planFor(firstRelease));
        const report = await load.stop();
        figure(describeLoad("second plan run", report));
        expect(results.filter((step) => step.changed !== 0).map((step) => `${step.name}: changed ${step.changed}`)).to.deep.equal([]);
        expect(report.failed, report.failures.join("\n")).to.equal(0);
    });

    it("deploys a new release under continuous load without a failed request", async () => {
        const load = startLoad(site, { paths: LOAD_PATHS });
        await apply(planFor(secondRelease));
        await new Promise((resolve) => setTimeout(resolve, 1000));
        const report = await load.stop();
        figure(describeLoad(`deploy ${firstRelease.id} → ${secondRelease.id}`, report));
        expect(report.failed, report.failures.join("\n")).to.equal(0);
        expect(report.lastRelease).to.equal(secondRelease.id);
        expect(JSON.parse((await request(site, "GET", "/api/version")).body)).to.deep.equal({ release: secondRelease.id });
    });

    it("rolls back to the previous release with one command, again without a failed request", async () => {
        const load = startLoad(site, { paths: LOAD_PATHS });
        await onServer(ROLLBACK_COMMAND);
        await new Promise((resolve) => setTimeout(resolve, 1000));
        const report = await load.stop();
        figure(describeLoad(`rollback ${secondRelease.id} → ${firstRelease.id}`, report));
        expect(report.failed, report.failures.join("\n")).to.equal(0);
        expect(JSON.parse((await request(site, "GET", "/api/version")).body)).to.deep.equal({ release: firstRelease.id });
    });

    it("keeps answering when an app process is killed with SIGKILL, and systemd brings it back", async () => {
        const [port] = appPorts(APP_INSTANCES);
        const killed = await mainPid(port);
        expect(killed).to.be.greaterThan(0);
        const load = startLoad(site, { paths: LOAD_PATHS });
        await onServer(`kill -9 ${killed}`);
        const seconds = await waitUntil(`${appInstanceUnit(port)} back`, 30, async () => {
            const pid = await mainPid(port);
            return (
                pid > 0 &&
                pid !== killed &&
                (await onServer(
                    `curl -fsS -o /dev/null -w '%{http_code}' --unix-socket ${appSocketPath(port)} http://localhost/readyz`,
                )) === "200"
            );
        });
        const report = await load.stop();
        figure(describeLoad("kill -9 of an app process", report));
        figure(`the killed instance answered again after ${seconds.toFixed(1)} s`);
        expect(report.failed, report.failures.join("\n")).to.equal(0);
    });

    it("answers 503 JSON while the database is stopped, without crashing, and recovers by itself", async () => {
        const pidsBefore = await Promise.all(appPorts(APP_INSTANCES).map(mainPid));
        await onServer("systemctl stop mariadb");
        try {
            const down = await request(site, "GET", "/api/posts");
            expect(down.status).to.equal(503);
            expect(JSON.parse(down.body)).to.include({ error: "database_unavailable" });
            expect((await request(site, "GET", "/readyz")).status).to.equal(503);
            // /healthz answers from a database probe at most a second old.
            await new Promise((resolve) => setTimeout(resolve, HEALTH_CACHE_MS));
            expect((await request(site, "GET", "/healthz")).status, "the outside health check sees the outage").to.equal(503);
            expect((await request(site, "GET", "/")).status, "nginx still serves the front end").to.equal(200);
        } finally {
            await onServer("systemctl start mariadb");
        }
        const seconds = await waitUntil("the API answers again", 60, async () => (await request(site, "GET", "/api/posts")).status === 200);
        figure(`API recovered ${seconds.toFixed(1)} s after the database started again`);
        expect(await Promise.all(appPorts(APP_INSTANCES).map(mainPid)), "an app process restarted").to.deep.equal(pidsBefore);
    });

    it("reboots in its maintenance window only when an update asked for it", async () => {
        expect(await onServer(`systemctl show -p TimersCalendar --value ${REBOOT_TIMER}`)).to.contain("OnCalendar=Sun *-*-* 03:00:00 UTC");
        expect(await onServer(`systemctl is-enabled ${REBOOT_TIMER}`)).to.equal("enabled\n");
        await onServer(`systemctl start ${REBOOT_UNIT}`);
        expect(await onServer(`journalctl _SYSTEMD_UNIT=${REBOOT_UNIT} -o cat`)).to.equal("no reboot required\n");
        expect((await request(site, "GET", "/readyz")).status).to.equal(200);
    });

    it("backs up and ships a fresh dump before that reboot, and comes back with every service running and every post kept", async () => {
        const dumpsBefore = await onServer(`ls ${BACKUP_DIR}`);
        await onServer(
            `echo '*** System restart required ***' > ${REBOOT_REQUIRED_FILE} && echo linux-image-amd64 > ${REBOOT_REQUIRED_FILE}.pkgs`,
        );
        const outage = measureOutage(site, "/readyz", 240);
        await onServer(`systemctl start --no-block ${REBOOT_UNIT}`);
        const seconds = await outage;
        figure(`reboot for an update: ${seconds.toFixed(1)} s from the last good answer to the first (target: at most 30)`);
        const newDumps = (await onServer(`ls ${BACKUP_DIR}`)).split("\n").filter((name) => name !== "" && !dumpsBefore.includes(name));
        expect(newDumps, "a dump taken before the reboot").to.have.length(1);
        expect(await onServer(`cat ${BACKUP_STATE_DIR}/shipped`), "the dump shipped to the bucket").to.contain(newDumps[0]);
        expect(await onServer(`ls ${REBOOT_REQUIRED_FILE} 2>&1 || true`)).to.contain("No such file");
        const units = ["nginx", "mariadb", ...appPorts(APP_INSTANCES).map(appInstanceUnit), "webstack-backup.timer", REBOOT_TIMER];
        expect((await onServer(`systemctl is-active ${units.join(" ")}`)).trim().split("\n")).to.deep.equal(units.map(() => "active"));
        const read = await request(site, "GET", `/api/posts/${createdPostId}`);
        expect(read.status).to.equal(200);
        expect(JSON.parse(read.body)).to.include({ body: "written through nginx" });
    });
});
