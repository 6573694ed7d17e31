import { expect } from "chai";
import { buildRelease, type BuiltRelease } from "../../release/build";
import { MINIMAL_APP } from "../../examples/minimal-app";
import { buildPlan, type Plan } from "../../provisioning";
import { ACCESS_LOG_FILE, APP_ENVIRONMENT_FILE } from "../../provisioning/layout";
import type { StepResult } from "../../sandbox/executors/runner";
import { request, waitUntil } from "../support/http";
import { describeOutcomes, startLoad, type LoadTarget } from "../support/load";
import { startSandbox, type TestSandbox } from "../support/sandbox";

const SANDBOX_NAME = "e2e-own-app";

/** Tokens with what an environment file or a shell would mangle: quotes, $, a backquote, a backslash, spaces. */
const FIRST_TOKEN = `t0ken with 'single' "double" $HOME \`ls\` \\ and spaces`;
const SECOND_TOKEN = "second-t0ken-after-rotation";

/** The minimal example app (examples/minimal-app) deployed by the same plan, with an API token from its environment. */
describe("another app deployed with its own environment on a sandbox server", function () {
    this.timeout(15 * 60_000);

    let sandbox: TestSandbox;
    let site: LoadTarget;
    let release: BuiltRelease;
    let firstRun: StepResult[];
    const plan = (): Plan => buildPlan({ release, appInstances: 2 });
    const apply = (token: string) => sandbox.apply(plan(), { inputs: { appEnvironment: { API_TOKEN: token } } });
    const countVisit = (token: string) => request(site, "POST", "/visits", undefined, { Authorization: `Bearer ${token}` });

    before(async () => {
        sandbox = await startSandbox(SANDBOX_NAME, { image: "packages" });
        site = { address: sandbox.address, hostName: `www.${sandbox.domain}` };
        release = await buildRelease({ app: MINIMAL_APP });
        firstRun = await apply(FIRST_TOKEN);
        await waitUntil("the app answers its health path", 60, async () => (await request(site, "GET", "/health")).status === 200);
    });

    after(async () => {
        await sandbox?.destroy();
    });

    it("serves the app's static files from disk and everything else from the app, which migrated its own table", async () => {
        const page = await request(site, "GET", "/");
        expect(page.status).to.equal(200);
        expect(page.body).to.contain("<h1>Minimal app</h1>");
        expect(page.headers["cache-control"]).to.equal("no-cache");
        expect((await request(site, "GET", "/robots.txt")).body).to.equal("User-agent: *\nDisallow: /visits\n");
        expect(JSON.parse((await request(site, "GET", "/visits")).body)).to.deep.equal({ visits: 0 });
        expect((await request(site, "GET", "/nothing-here")).status).to.equal(404);
    });

    it("gives the app its token through the environment file, quotes and all: writes count only with it", async () => {
        expect((await countVisit("wrong-token")).status).to.equal(401);
        const counted = await countVisit(FIRST_TOKEN);
        expect(counted.status, counted.body).to.equal(200);
        expect(JSON.parse(counted.body)).to.deep.equal({ visits: 1 });
    });

    it("keeps the token in a root-only file and nowhere in the plan's output, the journal, the logs or a command line", async () => {
        expect(await sandbox.exec(`stat -c '%a %U:%G' ${APP_ENVIRONMENT_FILE}`)).to.equal("600 root:root\n");
        const outputs = firstRun.map((step) => step.stdout).join("\n");
        expect(outputs).not.to.contain("t0ken");
        const leaks = await sandbox.exec(
            `{ journalctl --no-pager -o cat; cat /var/log/nginx/*.log ${ACCESS_LOG_FILE}; cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' ' '; } | grep -c 't0k[e]n' || true`,
        );
        expect(leaks.trim()).to.equal("0");
    });

    it("logs each request once, to an access log that logrotate rotates by size every few minutes, nginx writing on into a fresh file", async () => {
        await request(site, "GET", "/robots.txt?before-rotation");
        await new Promise((resolve) => setTimeout(resolve, 1_500));
        expect(await sandbox.exec(`grep -c 'before-rotation' ${ACCESS_LOG_FILE}`)).to.equal("1\n");
        expect(await sandbox.exec("systemctl show -p TimersCalendar --value logrotate.timer")).to.contain("OnCalendar=*-*-* *:00/5:00 ;");
        await sandbox.exec("logrotate --force /etc/logrotate.d/webstack");
        await request(site, "GET", "/robots.txt?after-rotation");
        await new Promise((resolve) => setTimeout(resolve, 1_500));
        expect(await sandbox.exec(`cat ${ACCESS_LOG_FILE}`))
            .to.contain("after-rotation")
            .and.not.to.contain("before-rotation");
        expect(await sandbox.exec(`zcat ${ACCESS_LOG_FILE}.1.gz | grep -c before-rotation`)).to.equal("1\n");
    });

    it("changes nothing when applied again with the same environment", async () => {
        const results = await apply(FIRST_TOKEN);
        expect(results.filter((step) => step.changed !== 0).map((step) => `${step.name}: changed ${step.changed}`)).to.deep.equal([]);
    });

    it("rotates the token with a rolling restart: the new one works, the old one no longer does, and no request fails meanwhile", async () => {
        const load = startLoad(site, { paths: ["/visits", "/health", "/"], concurrency: 8 });
        const results = await apply(SECOND_TOKEN);
        const report = await load.stop();

        expect(results.filter((step) => step.changed !== 0).map((step) => step.name)).to.deep.equal(["app-environment"]);
        expect(Object.keys(report.outcomes), describeOutcomes(report.outcomes)).to.deep.equal(["200"]);
        expect((await countVisit(FIRST_TOKEN)).status).to.equal(401);
        expect(JSON.parse((await countVisit(SECOND_TOKEN)).body)).to.deep.equal({ visits: 2 });
    });
});
