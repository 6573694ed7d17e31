import { expect } from "chai";
import { Resolver } from "node:dns/promises";
import { buildRelease } from "../../release/build";
import type { Release } from "../../provisioning";
import { APP_SERVER_PACKAGES_LAYER, destroyFleet, startFleet } from "../../sandbox/fleet/fleet";
import type { Fleet } from "../../sandbox/fleet/fleetHandle";
import { TARGET_HEADER } from "../../sandbox/fleet/loadBalancer";
import { shellQuote } from "../../provisioning/script";
import { RECENT_WRITER_COOKIE } from "../../provisioning/files/nginx";
import { APP_USER, MIGRATOR_ENV_FILE } from "../../provisioning/layout";
import { sshRunAsRoot } from "../../sandbox/host/ssh";
import { suiteLog } from "../support/sandbox";
import { figure } from "../support/figure";
import { metadataTokenOutcome } from "../support/metadataService";
import { request, waitUntil } from "../support/http";
import { describeOutcomes, startLoad, type LoadReport, type LoadTarget } from "../support/load";

const FLEET_NAME = "e2e-ha";
const DOMAIN = "ha.webstack.test";
/** What the load reads: the static page, the API reading the database, and the readiness probe. */
const LOAD_PATHS = ["/", "/api/posts?limit=5", "/healthz"];

function describeLoad(what: string, report: LoadReport): string {
    const failures = report.failures.length ? ` (${report.failures.join("; ")})` : "";
    return `${what}: ${report.sent} requests in ${report.seconds.toFixed(1)} s, ${report.failed} failed${failures}; ${describeOutcomes(report.outcomes)}`;
}

describe("the ha topology on a multi-host sandbox: load balancer, database server, app servers configured by cloud-init (end to end)", function () {
    this.timeout(30 * 60_000);

    let fleet: Fleet;
    let site: LoadTarget;
    let firstRelease: Release;
    let secondRelease: Release;

    /** Which targets answer `requests` GETs of the health path, by the load balancer's header. */
    async function targetsAnswering(requests: number): Promise<Set<string>> {
        const seen = new Set<string>();
        for (let sent = 0; sent < requests; sent++) {
            const answer = await request(site, "GET", "/healthz");
            seen.add(String(answer.headers[TARGET_HEADER.toLowerCase()]));
        }
        return seen;
    }

    before(async () => {
        const started = Date.now();
        [firstRelease, secondRelease] = [await buildRelease(), await buildRelease({ stamp: "end-to-end ha second release" })];
        fleet = await startFleet({
            name: FLEET_NAME,
            domain: DOMAIN,
            release: firstRelease,
            log: suiteLog,
            preinstalled: APP_SERVER_PACKAGES_LAYER,
        });
        site = { address: fleet.loadBalancerAddress, hostName: `www.${DOMAIN}`, trustedCaPem: fleet.trustedCaPem };
        figure(
            `load balancer, database and two app servers up, each app server configured by its own first boot, in ${((Date.now() - started) / 1000).toFixed(1)} s`,
        );
    });

    after(async () => {
        await destroyFleet(FLEET_NAME, suiteLog);
    });

    it("resolves www.<domain> to the load balancer, which the app servers reach at AWS's names for S3 and Secrets Manager", async () => {
        const resolver = new Resolver({ timeout: 2000, tries: 2 });
        resolver.setServers([fleet.dnsServer]);
        expect(await resolver.resolve4(`www.${DOMAIN}`)).to.deep.equal([fleet.loadBalancerAddress]);
        expect(await resolver.resolve4("secretsmanager.eu-central-1.amazonaws.com")).to.deep.equal([fleet.dnsServer]);
    });

    it("configured each app server with cloud-init from the launch template's user data, with nobody's SSH", async () => {
        expect(fleet.appServerSlots()).to.deep.equal([1, 2]);
        for (const slot of fleet.appServerSlots()) {
            expect(await fleet.onAppServer(slot, "cloud-init status")).to.contain("status: done");
            expect(await fleet.onAppServer(slot, "cat /var/log/cloud-init-output.log")).to.contain(
                "webstack first boot: every step applied",
            );
            expect((await fleet.onAppServer(slot, "command -v mariadbd || echo none")).trim()).to.equal("none");
            expect(await fleet.onAppServer(slot, "ufw status"))
                .to.match(/^80\/tcp +ALLOW +Anywhere *$/m)
                .and.not.to.match(/^22\//m);
        }
    });

    it("connects the app as a user of its own that may only query its database, and migrates as the master user", async () => {
        for (const slot of fleet.appServerSlots()) {
            expect(await fleet.onAppServer(slot, "grep ^DB_USER= /etc/webstack/app.env")).to.equal('DB_USER="webstack_app"\n');
            expect(await fleet.onAppServer(slot, "grep ^DB_USER= /etc/webstack/migrator.env")).to.equal('DB_USER="webstack"\n');
            expect(await fleet.onAppServer(slot, "stat -c '%a %U' /etc/webstack/app.env /etc/webstack/migrator.env")).to.equal(
                "600 root\n600 root\n",
            );
        }
        const asRoot = (sql: string) => sshRunAsRoot(fleet.database.ssh, `mariadb --protocol=socket --skip-ssl -N -e ${shellQuote(sql)}`);
        const grants = (await asRoot("SHOW GRANTS FOR 'webstack_app'@'%'")).trim().split("\n");
        expect(grants).to.have.length(2);
        expect(grants[0]).to.match(/^GRANT USAGE ON \*\.\* TO `webstack_app`@`%` IDENTIFIED BY PASSWORD '\*[0-9A-F]{40}' REQUIRE SSL$/);
        expect(grants[1]).to.equal("GRANT SELECT, INSERT, UPDATE, DELETE ON `webstack`.* TO `webstack_app`@`%`");
        expect((await request(site, "GET", "/api/posts")).status).to.equal(200);
        const connected = await asRoot("SELECT DISTINCT user FROM information_schema.processlist WHERE db = 'webstack'");
        expect(connected.trim().split("\n")).to.deep.equal(["webstack_app"]);
    });

    it("keeps the master password from the app's user: the migrator's file is root's, and the metadata service, with the role's credentials, refuses it", async () => {
        for (const slot of fleet.appServerSlots()) {
            const onAppServer = (command: string) => fleet.onAppServer(slot, command);
            expect(await metadataTokenOutcome(onAppServer, "root")).to.equal("http 200 exit 0");
            expect(await metadataTokenOutcome(onAppServer, APP_USER)).to.equal("http 000 exit 7");
            expect(await onAppServer(`runuser -u ${APP_USER} -- cat ${MIGRATOR_ENV_FILE} 2>&1 || true`)).to.contain("Permission denied");
        }
    });

    it("serves the seed's flow through the load balancer over HTTPS: the page, a new post, the list, from both app servers", async () => {
        const page = await request(site, "GET", "/");
        expect(page.status).to.equal(200);
        expect(page.body).to.match(/<html/i);
        expect(page.headers["strict-transport-security"]).to.equal("max-age=63072000");
        const created = await request(site, "POST", "/api/posts", {
            author: "fleet sandbox",
            body: "Through the load balancer, stored on the database server.",
        });
        expect(created.status, created.body).to.equal(201);
        const list = await request(site, "GET", "/api/posts");
        expect(list.status).to.equal(200);
        expect(list.body).to.contain("Through the load balancer");
        expect([...(await targetsAnswering(8))].sort()).to.deep.equal(["app1", "app2"]);
    });

    it("redirects HTTP to HTTPS at the load balancer", async () => {
        const plain = await request({ address: fleet.loadBalancerAddress, hostName: `www.${DOMAIN}` }, "GET", "/api/posts");
        expect(plain.status).to.equal(301);
        expect(plain.headers.location).to.equal(`https://www.${DOMAIN}/api/posts`);
    });

    it("loses no GET when an app server is powered off under load", async () => {
        const load = startLoad(site, { paths: LOAD_PATHS, concurrency: 8, maxSeconds: 60 });
        await new Promise((resolve) => setTimeout(resolve, 3000));
        await fleet.powerOffAppServer(2);
        await waitUntil("the load balancer takes app2 out", 30, async () => !(await fleet.healthyTargets()).includes("app2"));
        await new Promise((resolve) => setTimeout(resolve, 2000));
        const report = await load.stop();
        figure(describeLoad("app2 powered off under load", report));
        expect(report.failed, report.failures.join("; ")).to.equal(0);
        expect(report.sent).to.be.above(100);
        expect(await targetsAnswering(4)).to.deep.equal(new Set(["app1"]));
    });

    it("has a new app server, started from the same user data, configure itself and join by itself", async () => {
        const started = Date.now();
        await fleet.launchAppServer(3);
        figure(`app3 launched, configured by cloud-init and in the load balancer in ${((Date.now() - started) / 1000).toFixed(1)} s`);
        expect([...(await targetsAnswering(8))].sort()).to.deep.equal(["app1", "app3"]);
        const list = await request(site, "GET", "/api/posts");
        expect(list.body).to.contain("Through the load balancer");
    });

    it("deploys a new release across the app servers under load, new servers first, with no failed request", async () => {
        const load = startLoad(site, { paths: LOAD_PATHS, concurrency: 8, maxSeconds: 900 });
        const started = Date.now();
        await fleet.rollingDeploy(secondRelease, suiteLog);
        const deploySeconds = (Date.now() - started) / 1000;
        await new Promise((resolve) => setTimeout(resolve, 2000));
        const report = await load.stop();
        figure(describeLoad(`rolling deploy of ${secondRelease.id} in ${deploySeconds.toFixed(1)} s`, report));
        expect(report.failed, report.failures.join("; ")).to.equal(0);
        expect(report.lastRelease).to.equal(secondRelease.id);
        for (let sent = 0; sent < 6; sent++) {
            expect((await request(site, "GET", "/healthz")).headers["x-release"]).to.equal(secondRelease.id);
        }
        expect(firstRelease.id).not.to.equal(secondRelease.id);
    });

    it("rolls back to the launch template's previous version under load: the versions its plan pinned are still in the bucket", async () => {
        const load = startLoad(site, { paths: LOAD_PATHS, concurrency: 8, maxSeconds: 900 });
        const started = Date.now();
        await fleet.rollBack(suiteLog);
        const rollbackSeconds = (Date.now() - started) / 1000;
        await new Promise((resolve) => setTimeout(resolve, 2000));
        const report = await load.stop();
        figure(describeLoad(`rollback to ${firstRelease.id} in ${rollbackSeconds.toFixed(1)} s`, report));
        expect(report.failed, report.failures.join("; ")).to.equal(0);
        expect(report.lastRelease).to.equal(firstRelease.id);
        for (let sent = 0; sent < 6; sent++) {
            expect((await request(site, "GET", "/healthz")).headers["x-release"]).to.equal(firstRelease.id);
        }
        expect((await request(site, "GET", "/api/posts")).body).to.contain("Through the load balancer");
    });

    it("keeps every app server in the load balancer while the database is away, so that Auto Scaling would replace none", async () => {
        const serving = await fleet.healthyTargets();
        await sshRunAsRoot(fleet.database.ssh, "systemctl stop mariadb");
        try {
            await new Promise((resolve) => setTimeout(resolve, 8000));
            const away = await request(site, "GET", "/api/posts");
            expect(away.status).to.equal(503);
            expect(away.headers["content-type"]).to.match(/^application\/json/);
            expect((await fleet.healthyTargets()).sort()).to.deep.equal([...serving].sort());
        } finally {
            await sshRunAsRoot(fleet.database.ssh, "systemctl start mariadb");
        }
        await waitUntil("the API reads the database again", 60, async () => (await request(site, "GET", "/api/posts")).status === 200);
    });

    it("answers 503 in JSON while the database server restarts, then recovers by itself", async () => {
        // As a writer reads, past the micro-cache: a reader meanwhile gets the last list, served stale.
        const readAsWriter = () => request(site, "GET", "/api/posts", undefined, { cookie: `${RECENT_WRITER_COOKIE}=1` });
        await fleet.rebootDatabase();
        let unavailable: { status: number; body: string; contentType: string } | undefined;
        await waitUntil("the API answers 503 while the database is away", 60, async () => {
            const answer = await readAsWriter();
            if (answer.status === 503) {
                unavailable = { status: answer.status, body: answer.body, contentType: String(answer.headers["content-type"]) };
            }
            return answer.status === 503;
        });
        expect(unavailable?.contentType).to.match(/^application\/json/);
        expect(JSON.parse(unavailable?.body ?? "{}")).to.have.property("error");
        const seconds = await waitUntil("the API reads the database again", 120, async () => (await readAsWriter()).status === 200);
        figure(`the API read the database again ${seconds.toFixed(1)} s after its first 503`);
        expect((await readAsWriter()).body).to.contain("Through the load balancer");
    });
});
