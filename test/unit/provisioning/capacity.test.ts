import { expect } from "chai";
import { DATABASE_DEADLINE_MS } from "../../../app/src/database";
import { renderMariadbConfig } from "../../../provisioning/files/mariadb";
import { renderNginxConf, renderSite, renderUpstream } from "../../../provisioning/files/nginx";
import {
    APP_WATCHDOG_SECONDS,
    renderAppUnit,
    renderDatabaseUnitDropIn,
    renderJournaldConfig,
    renderJournaldUnitDropIn,
    renderNginxUnitDropIn,
} from "../../../provisioning/files/systemd";
import { appPorts, DEFAULT_APP_INSTANCES, MAX_APP_INSTANCES } from "../../../provisioning/layout";

/** The number after `name` (nginx `name N;`, systemd and MariaDB `name=N` or `name = N`) in a rendered file; throws when absent. */
function setting(text: string, name: string): number {
    const match = new RegExp(`(?:^|[\\s;=])${name}(?: |=| = )(\\d+)`, "m").exec(text);
    if (!match) {
        throw new Error(`${name} is not set in:\n${text}`);
    }
    return Number(match[1]);
}

/**
 * The limits of every layer, read back from the files the plan renders, fit together on the
 * default instance: what one layer lets through, the next can take.
 */
describe("the server's capacity, as rendered", () => {
    const nginxConf = renderNginxConf();
    const upstream = renderUpstream(appPorts(MAX_APP_INSTANCES));
    const site = renderSite({ domain: "example.com", tls: false });
    const unit = renderAppUnit();
    const mariadb = renderMariadbConfig();

    it("gives nginx thousands of connections per worker, and the descriptors each proxied one needs twice", () => {
        const workerConnections = setting(nginxConf, "worker_connections");
        expect(workerConnections).to.be.at.least(2048);
        expect(setting(nginxConf, "worker_rlimit_nofile")).to.be.at.least(2 * workerConnections);
    });

    it("queues as many connections in the kernel as a worker takes, so a burst is not refused", () => {
        expect(setting(site, "backlog")).to.be.at.least(1024);
    });

    it("lets an app instance queue for a database connection every request nginx may send it, through both its entries", () => {
        const entriesPerInstance = upstream.split("\n").filter((line) => line.includes("/3001.sock ")).length;
        expect(entriesPerInstance).to.equal(2);
        const perInstance = entriesPerInstance * setting(upstream, "max_conns");
        expect(setting(unit, "DB_QUEUE_LIMIT")).to.be.at.least(perInstance);
        expect(setting(unit, "LimitNOFILE")).to.be.above(perInstance + setting(unit, "DB_POOL_SIZE"));
    });

    it("fits the pools of the most app instances in MariaDB's max_connections, with room for backups and an operator", () => {
        const pools = MAX_APP_INSTANCES * setting(unit, "DB_POOL_SIZE");
        expect(setting(mariadb, "max_connections")).to.be.at.least(pools + 5);
        expect(setting(mariadb, "max_connections"), "each connection costs memory on a 1 GiB server").to.be.at.most(151);
    });

    it("waits for an app's answer longer than the app's own database deadline, so only a hung instance times out", () => {
        const readTimeoutMs = setting(site, "proxy_read_timeout") * 1000;
        expect(readTimeoutMs).to.be.above(DATABASE_DEADLINE_MS);
    });

    it("keeps each app instance's heap under its soft memory limit, and both under its hard one", () => {
        const heap = setting(unit, "--max-old-space-size");
        const high = setting(unit, "MemoryHigh");
        const max = setting(unit, "MemoryMax");
        expect(heap).to.be.below(high);
        expect(high).to.be.below(max);
    });

    it("leaves a 1 GiB server at least half its memory when the default instances reach their hard limit", () => {
        expect(DEFAULT_APP_INSTANCES * setting(unit, "MemoryMax")).to.be.at.most(512);
    });

    it("has the kernel kill app instances first, then nginx or the journal, and MariaDB last when memory runs out all the same", () => {
        const app = setting(unit, "OOMScoreAdjust");
        const nginx = setting(renderNginxUnitDropIn(), "OOMScoreAdjust");
        const journald = setting(renderJournaldUnitDropIn(), "OOMScoreAdjust");
        expect(renderDatabaseUnitDropIn()).to.match(/^OOMScoreAdjust=-\d+$/m);
        expect(nginx).to.equal(journald);
        expect(app).to.be.above(nginx);
    });

    it("keeps MariaDB last by the others' scores alone, where a container refuses its negative one, while its buffer pool is Debian's 128 MiB", () => {
        // Its buffer pool and the rest: the benchmark measures about 130 MiB after its load.
        const mariadbResidentMiB = 192;
        expect(setting(renderNginxUnitDropIn(), "OOMScoreAdjust") / 1000).to.be.above(mariadbResidentMiB / 1024);
    });

    it("starts nginx again when it dies (Debian's unit would leave it down)", () => {
        expect(renderNginxUnitDropIn()).to.match(/^Restart=on-failure$/m);
    });

    it("bounds the journal on disk and in memory", () => {
        const journald = renderJournaldConfig();
        expect(setting(journald, "SystemMaxUse")).to.be.at.most(512);
        expect(setting(journald, "RuntimeMaxUse")).to.be.at.most(64);
    });

    it("restarts a hung instance within seconds, after nginx has stopped sending it requests", () => {
        expect(setting(unit, "WatchdogSec")).to.equal(APP_WATCHDOG_SECONDS);
        expect(APP_WATCHDOG_SECONDS).to.be.within(2, 10);
        expect(setting(site, "proxy_read_timeout")).to.be.below(APP_WATCHDOG_SECONDS);
    });
});
