import { expect } from "chai";
import * as path from "path";
import { buildRelease } from "../../release/build";
import { buildPlan, type Release } from "../../provisioning";
import { appInstanceUnit, appPorts, appSocketPath, CURRENT_LINK, RELEASES_DIR } from "../../provisioning/layout";
import { figure } from "../support/figure";
import { request, waitUntil } from "../support/http";
import { describeOutcomes, startLoad, type LoadTarget } from "../support/load";
import { provisionSandbox, type TestSandbox } from "../support/sandbox";

const SANDBOX_NAME = "e2e-failed-deploy";
const APP_INSTANCES = 2;
/** What the load sends: the static page, the API reading the database, and the liveness probe. */
const LOAD_PATHS = ["/", "/api/posts?limit=5", "/healthz", "/app.js"];

describe("a deploy whose release never gets healthy (end to end)", function () {
    this.timeout(15 * 60_000);

    let sandbox: TestSandbox;
    let site: LoadTarget;
    let serving: Release;
    let crashing: Release;
    const onServer = (command: string): Promise<string> => sandbox.exec(command);
    /** The release each instance answers with on its own socket, asked past nginx. */
    const releasesOfInstances = () =>
        Promise.all(
            appPorts(APP_INSTANCES).map(
                async (port) =>
                    JSON.parse(await onServer(`curl -fsS --unix-socket ${appSocketPath(port)} http://localhost/api/version`))
                        .release as string,
            ),
        );

    before(async () => {
        serving = await buildRelease();
        crashing = await buildRelease({ app: { entry: path.join(__dirname, "..", "support", "crashingApp.ts") } });
        sandbox = await provisionSandbox(SANDBOX_NAME, { appInstances: APP_INSTANCES, release: serving });
        site = { address: sandbox.address, hostName: `www.${sandbox.domain}` };
    });

    after(async () => {
        await sandbox?.destroy();
    });

    it("fails the step with the health check's last answer and the journal, back on the serving release, without a failed request", async () => {
        const load = startLoad(site, { paths: LOAD_PATHS, concurrency: 16 });
        const started = Date.now();
        const failure = await sandbox.apply(buildPlan({ appInstances: APP_INSTANCES, release: crashing }), { quiet: true }).then(
            () => "the deploy succeeded",
            (error: Error) => error.message,
        );
        const seconds = (Date.now() - started) / 1000;
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        const report = await load.stop();

        figure(`failed deploy of a release that crashes at start: the step failed after ${seconds.toFixed(1)} s`);
        figure(
            `the site meanwhile: ${report.sent} requests (${describeOutcomes(report.outcomes)}), ${report.retriedOnClosedConnection} sent again after nginx closed their connection`,
        );
        expect(failure).to.contain('Plan step "deploy" failed');
        expect(failure).to.contain(`did not run release ${crashing.id} and answer /healthz with 200`);
        // A release that crashes at start is either gone or not yet listening when the last check looks.
        expect(failure).to.match(/the health check's last answer: (no process|no answer)/);
        expect(failure).to.contain(`Returned to release ${serving.id}: current points at it again and every instance serves it`);
        expect(failure).to.contain("this release crashes at start, on purpose");
        expect(report.failed, report.failures.join("\n")).to.equal(0);
        expect(report.lastRelease).to.equal(serving.id);
    });

    it("leaves current on the serving release, so that a restart of every instance still serves it", async () => {
        expect((await onServer(`readlink ${CURRENT_LINK}`)).trim()).to.equal(`${RELEASES_DIR}/${serving.id}`);
        const units = appPorts(APP_INSTANCES).map(appInstanceUnit);
        await onServer(`systemctl restart ${units.join(" ")}`);
        const ready = await waitUntil("every instance answers after the restart", 60, async () =>
            (await releasesOfInstances()).every((release) => release === serving.id),
        );

        figure(`every instance restarted at once served release ${serving.id} again after ${ready.toFixed(1)} s`);
        expect(await releasesOfInstances()).to.deep.equal(appPorts(APP_INSTANCES).map(() => serving.id));
        expect(JSON.parse((await request(site, "GET", "/api/version")).body)).to.deep.equal({ release: serving.id });
    });
});
