import { expect } from "chai";
import { buildRelease } from "../../release/build";
import { buildPlan, type MaintenanceSettings, type Plan, type Release } from "../../provisioning";
import { MAINTENANCE_RETRY_AFTER_SECONDS } from "../../provisioning/files/maintenance";
import { MAINTENANCE_COMMAND } from "../../provisioning/layout";
import { shellQuote } from "../../provisioning/script";
import { request, waitUntil, type HttpAnswer } from "../support/http";
import { figure } from "../support/figure";
import { describeOutcomes, startLoad, type LoadReport, type LoadTarget } from "../support/load";
import { startSandbox, type TestSandbox } from "../support/sandbox";

const SANDBOX_NAME = "e2e-maintenance";
const MESSAGE = "Upgrading the database — back by 15:00 UTC. Danke & merci!";

describe("maintenance mode on a sandbox server (end to end)", function () {
    this.timeout(15 * 60_000);

    let sandbox: TestSandbox;
    let site: LoadTarget;
    let release: Release;
    const onServer = (command: string): Promise<string> => sandbox.exec(command);
    /** The plan with maintenance as given, the server's own address allowed past it. */
    const planWith = (maintenance: Omit<MaintenanceSettings, "allowedCidrs">): Plan =>
        buildPlan({ appInstances: 2, release, maintenance: { ...maintenance, allowedCidrs: [`${sandbox.address}/32`] } });
    /**
     * A request from an allowed address: sent on the server to its own public address, which the
     * plan allows. (The test's own requests come from the host's side of the sandbox's link: outside.)
     */
    const fromAllowedAddress = async (method: "GET" | "POST", path: string, body?: unknown): Promise<HttpAnswer> => {
        const data = body === undefined ? "" : `-H 'Content-Type: application/json' --data ${shellQuote(JSON.stringify(body))}`;
        const output = await onServer(
            `curl -sS -X ${method} -H 'Host: ${site.hostName}' ${data} -w '\\n%{http_code}' http://${sandbox.address}${path}`,
        );
        const lines = output.trimEnd().split("\n");
        return { status: Number(lines.pop()), headers: {}, body: lines.join("\n") };
    };
    const post = async (from: "outside" | "allowed", text: string): Promise<HttpAnswer> => {
        const body = { author: from, body: text };
        return from === "outside" ? request(site, "POST", "/api/posts", body) : fromAllowedAddress("POST", "/api/posts", body);
    };
    const expectMaintenanceAnswer = (answer: HttpAnswer, what: string) => {
        expect(answer.status, what).to.equal(503);
        expect(answer.headers["retry-after"], what).to.equal(String(MAINTENANCE_RETRY_AFTER_SECONDS));
    };
    const written: number[] = [];
    /** Outsiders' reads while the mode switches: each a page, the API's answer or maintenance's 503, never a dropped connection. */
    const readsAcrossSwitch = async (what: string, switchMode: () => Promise<unknown>): Promise<LoadReport> => {
        const load = startLoad(site, { paths: ["/", "/api/posts?limit=5"], concurrency: 8 });
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        await switchMode();
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        const report = await load.stop();
        figure(`${what}: outsiders' reads meanwhile ${report.sent} (${describeOutcomes(report.outcomes)})`);
        expect(Object.keys(report.outcomes).filter((outcome) => !["200", "503", "503 deliberate"].includes(outcome))).to.deep.equal([]);
        return report;
    };

    before(async () => {
        release = await buildRelease();
        sandbox = await startSandbox(SANDBOX_NAME, { image: "packages" });
        site = { address: sandbox.address, hostName: `www.${sandbox.domain}` };
        await sandbox.apply(planWith({}), { quiet: true });
        await waitUntil(
            "the site answers its health path",
            60,
            async () => (await request(site, "GET", release.healthPath)).status === 200,
        );
    });

    after(async () => {
        await sandbox?.destroy();
    });

    it("answers everyone outside with 503, Retry-After and the message once webstack-maintenance is on, the page and the API alike", async () => {
        const before = await post("outside", "written before maintenance");
        expect(before.status, before.body).to.equal(201);
        written.push(JSON.parse(before.body).id);

        const switching = await readsAcrossSwitch("webstack-maintenance on", () =>
            onServer(`${MAINTENANCE_COMMAND} on --message ${shellQuote(MESSAGE)}`),
        );
        expect(switching.outcomes["503 deliberate"], "the API's maintenance answers: JSON with Retry-After").to.be.above(0);
        const page = await request(site, "GET", "/");
        const read = await request(site, "GET", "/api/posts?limit=5");
        const write = await post("outside", "refused during maintenance");

        expectMaintenanceAnswer(page, "the page");
        expect(page.headers["content-type"]).to.equal("text/html; charset=utf-8");
        expect(page.body).to.contain("Upgrading the database — back by 15:00 UTC. Danke &#38; merci!");
        expectMaintenanceAnswer(read, "an API read");
        expect(JSON.parse(read.body)).to.deep.equal({ error: "maintenance", message: MESSAGE });
        expectMaintenanceAnswer(write, "an API write");
        expect(await onServer(`${MAINTENANCE_COMMAND} status`)).to.equal(
            `on: ${MESSAGE}\nallowed during maintenance: ${sandbox.address}/32\n`,
        );
    });

    it("gives an allowed address the site, its writes included, during maintenance", async () => {
        expect((await fromAllowedAddress("GET", "/")).status).to.equal(200);
        const during = await post("allowed", "written during maintenance from an allowed address");
        expect(during.status, during.body).to.equal(201);
        written.push(JSON.parse(during.body).id);
        expect((await fromAllowedAddress("GET", `/api/posts/${written[1]}`)).status).to.equal(200);
    });

    it("serves everyone again after webstack-maintenance off, every post written before and during maintenance kept", async () => {
        const switching = await readsAcrossSwitch("webstack-maintenance off", () => onServer(`${MAINTENANCE_COMMAND} off`));
        expect(switching.outcomes["200"]).to.be.above(0);
        expect((await request(site, "GET", "/")).status).to.equal(200);
        const after = await post("outside", "written after maintenance");
        expect(after.status, after.body).to.equal(201);
        written.push(JSON.parse(after.body).id);
        const bodies = await Promise.all(written.map(async (id) => JSON.parse((await request(site, "GET", `/api/posts/${id}`)).body).body));
        expect(bodies).to.deep.equal([
            "written before maintenance",
            "written during maintenance from an allowed address",
            "written after maintenance",
        ]);
    });

    it("goes into maintenance and out of it from the stack's config, each run changing the maintenance step alone, and a second run nothing", async () => {
        const on = await sandbox.apply(planWith({ enabled: true, message: MESSAGE }), { quiet: true });
        expect(on.filter((step) => step.changed !== 0).map((step) => step.name)).to.deep.equal(["maintenance"]);
        expectMaintenanceAnswer(await request(site, "GET", "/"), "in maintenance from the config");
        const again = await sandbox.apply(planWith({ enabled: true, message: MESSAGE }), { quiet: true });
        expect(again.filter((step) => step.changed !== 0).map((step) => step.name)).to.deep.equal([]);

        const off = await sandbox.apply(planWith({}), { quiet: true });
        expect(off.filter((step) => step.changed !== 0).map((step) => step.name)).to.deep.equal(["maintenance"]);
        expect((await request(site, "GET", "/")).status).to.equal(200);
    });
});
