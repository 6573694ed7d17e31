import { expect } from "chai";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ConfigMap, EngineEvent, Stack } from "@pulumi/pulumi/automation";
import { buildRelease } from "../../release/build";
import { PREVIEW_KEY_PLACEHOLDER } from "../../config/stackConfig";
import { buildPlan, changedSteps, type Plan, type PlanInputs, type Release } from "../../provisioning";
import {
    APP_DATABASE,
    APP_DATABASE_ENV_FILE,
    appSocketPath,
    NGINX_SITE_FILE,
    NGINX_UPSTREAM_FILE,
    PENDING_ACTIONS_DIR,
} from "../../provisioning/layout";
import {
    engineStateLayout,
    existingServerConfig,
    openEngineStack,
    REPO_ROOT,
    requireEngineBinDir,
    sandboxServer,
    setStackConfig,
    stackStateFile,
} from "../../sandbox/executors/engine";
import { SANDBOX_STACK } from "../../sandbox/objectStore/aws";
import { figure } from "../support/figure";
import { request } from "../support/http";
import { startLoad, type LoadTarget } from "../support/load";
import { watchCommandLines } from "../support/processes";
import { startSshAgent, type SshAgent } from "../../sandbox/executors/sshAgent";
import { startSandbox, type TestSandbox } from "../support/sandbox";

const SANDBOX_NAME = "e2e-engine";
const API_TOKEN = "engine-test-token-5b0c2f9e7d41";
const ROTATED_API_TOKEN = "engine-test-token-rotated-8e13aa60c2d5";
/** A file nginx includes (conf.d) that no step writes, holding something nginx refuses. */
const BROKEN_NGINX_FILE = "/etc/nginx/conf.d/hand-made.conf";
/** How chatty the engine's logs are when the suite greps them for secrets: level 7 and up trace RPC payloads, secrets and all. */
const LOG_VERBOSITY = 5;

/** What one engine operation said: its text output, its engine events and its logs (stderr). */
interface Transcript {
    output: string;
    events: EngineEvent[];
    logs: string;
}

function resourceName(urn: string): string {
    return urn.slice(urn.lastIndexOf("::") + 2);
}

/** The resources an operation's events show with the given op ("create", "update", ...), by name, in event order. */
function namesWithOp(events: readonly EngineEvent[], op: string): string[] {
    return events.flatMap((event) =>
        event.resourcePreEvent?.metadata.op === op ? [resourceName(event.resourcePreEvent.metadata.urn)] : [],
    );
}

/** Every file under a directory, recursively. */
function filesUnder(directory: string): string[] {
    return readdirSync(directory, { recursive: true, withFileTypes: true })
        .filter((entry) => entry.isFile())
        .map((entry) => join(entry.parentPath, entry.name));
}

function seconds(startedAt: number): string {
    return ((Date.now() - startedAt) / 1000).toFixed(1);
}

describe("the real Pulumi engine running this program against a sandbox server (end to end)", function () {
    this.timeout(20 * 60_000);

    let sandbox: TestSandbox;
    let site: LoadTarget;
    let stack: Stack;
    let stateDir: string;
    let release: Release;
    /** Every operation's transcript, for the secrets check at the end. */
    const transcripts: Transcript[] = [];

    const stepResource = (step: string) => `webstack-${step}`;
    /** The resources beside one per plan step: the stack, the provisioner and the upload of the steps' scripts. */
    const BESIDE_STEPS = 3;
    /** A step's state is its launcher, connection and triggers, twice (inputs and outputs): its script would be tens of KiB. */
    const STATE_KIB_PER_RESOURCE = 4;
    const planInputs = (apiToken: string): PlanInputs => ({ domain: sandbox.domain, appEnvironment: { API_TOKEN: apiToken } });
    const plannedFor = (appInstances: number, apiToken: string): { plan: Plan; inputs: PlanInputs } => ({
        plan: buildPlan({ appInstances, release }),
        inputs: planInputs(apiToken),
    });
    // No private key in the config: the steps log in through an ssh-agent, as from a workstation.
    const configFor = (appInstances: number): ConfigMap => ({
        ...existingServerConfig({ ...sandboxServer(sandbox.sandbox), privateKey: undefined }),
        "webstack:appInstances": { value: String(appInstances) },
    });
    let agent: SshAgent;
    /** Every base64 line of the login key, which no file, output or process of the engine may show. */
    let privateKeyLines: string[];
    let commandLines: ReturnType<typeof watchCommandLines>;
    const setApiToken = (value: string) =>
        setStackConfig(stack, { "webstack:appEnvironment.API_TOKEN": { value, secret: true } }, { path: true });

    /** Runs an engine operation with its output, events and logs recorded. */
    async function recorded<T>(
        operation: (options: {
            onOutput: (text: string) => void;
            onEvent: (event: EngineEvent) => void;
            onError: (text: string) => void;
            logToStdErr: true;
            logVerbosity: number;
        }) => Promise<T>,
    ): Promise<{ result: T; transcript: Transcript }> {
        const transcript: Transcript = { output: "", events: [], logs: "" };
        transcripts.push(transcript);
        const result = await operation({
            onOutput: (text) => (transcript.output += text),
            onEvent: (event) => transcript.events.push(event),
            onError: (text) => (transcript.logs += text),
            logToStdErr: true,
            logVerbosity: LOG_VERBOSITY,
        });
        return { result, transcript };
    }

    /** The stack's state file as the backend keeps it (the Automation API's exportStack shows secrets in plain text). */
    const stateSize = () => statSync(stackStateFile(stateDir, SANDBOX_STACK)).size;

    before(async () => {
        requireEngineBinDir();
        sandbox = await startSandbox(SANDBOX_NAME, { image: "bare" });
        site = { address: sandbox.address, hostName: `www.${sandbox.domain}` };
        release = await buildRelease();
        stateDir = mkdtempSync(join(tmpdir(), "webstack-engine-"));
        commandLines = watchCommandLines();
        agent = await startSshAgent([sandbox.ssh.identityFile]);
        privateKeyLines = readFileSync(sandbox.ssh.identityFile, "utf8")
            .split("\n")
            .filter((line) => line !== "" && !line.startsWith("-----"));
        stack = await openEngineStack({
            stateDir,
            stackName: SANDBOX_STACK,
            passphrase: "engine-test-passphrase",
            config: configFor(2),
            sshAuthSock: agent.socket,
        });
        await setApiToken(API_TOKEN);
    });

    after(async () => {
        commandLines?.stop();
        await agent?.stop();
        await sandbox?.destroy();
        if (stateDir !== undefined) {
            rmSync(stateDir, { recursive: true, force: true });
        }
    });

    it("previews a new stack as the provisioner and one resource per plan step, in plan order, and nothing else", async () => {
        const startedAt = Date.now();
        const { result, transcript } = await recorded((options) => stack.preview(options));
        figure(`preview of a new stack: ${seconds(startedAt)} s`);
        const plan = plannedFor(2, API_TOKEN).plan;
        const created = transcript.events.flatMap((event) =>
            event.resourcePreEvent?.metadata.op === "create" ? [event.resourcePreEvent.metadata] : [],
        );
        expect(
            created.filter((resource) => !resource.type.startsWith("pulumi:providers:")).map((resource) => resourceName(resource.urn)),
        ).to.deep.equal(["webstack-sandbox", "webstack", stepResource("scripts"), ...plan.map((step) => stepResource(step.name))]);
        expect(
            created
                .filter((resource) => resource.type.startsWith("pulumi:providers:"))
                .map((resource) => `${resource.type} ${resourceName(resource.urn)}`),
        ).to.deep.equal(["pulumi:providers:command default_1_2_1"]);
        expect(result.changeSummary).to.deep.equal({ create: plan.length + BESIDE_STEPS });
    });

    it("creates the stack with up, and the site's flow works through nginx into MariaDB and back", async () => {
        const startedAt = Date.now();
        const { result } = await recorded((options) => stack.up(options));
        const resources = plannedFor(2, API_TOKEN).plan.length + BESIDE_STEPS;
        const targetKiB = resources * STATE_KIB_PER_RESOURCE;
        figure(
            `first up: ${seconds(startedAt)} s; state after it: ${(stateSize() / 1024).toFixed(1)} KiB for ${resources} resources (target: at most ${targetKiB})`,
        );
        expect(stateSize(), "the state's bytes: the steps' scripts stay out of it").to.be.at.most(targetKiB * 1024);
        expect(result.summary.result).to.equal("succeeded");
        expect(result.summary.resourceChanges).to.deep.equal({ create: plannedFor(2, API_TOKEN).plan.length + BESIDE_STEPS });
        expect(result.outputs.url.value).to.equal(`http://www.${sandbox.domain}`);

        const page = await request(site, "GET", "/");
        expect(page.status).to.equal(200);
        expect(page.headers.server).to.equal("nginx");
        const created = await request(site, "POST", "/api/posts", { author: "engine", body: "written after pulumi up" });
        expect(created.status, created.body).to.equal(201);
        const id = Number(JSON.parse(created.body).id);
        const stored = await sandbox.exec(`mariadb -N -B -e 'SELECT author, body FROM ${APP_DATABASE}.posts WHERE id = ${id}'`);
        expect(stored.trim()).to.equal("engine\twritten after pulumi up");
        const read = await request(site, "GET", `/api/posts/${id}`);
        expect(JSON.parse(read.body)).to.include({ id, author: "engine", body: "written after pulumi up" });
    });

    it("keeps no step's bulk output in the state: apt's stays on the server", async () => {
        const deployment = (await stack.exportStack()).deployment as { resources: { urn: string; outputs?: Record<string, unknown> }[] };
        const runSteps = plannedFor(2, API_TOKEN).plan.filter((step) => step.kind === "run");
        const outputSizes = Object.fromEntries(
            deployment.resources
                .filter((resource) => resource.urn.includes("command:remote:Command"))
                .map((resource) => [
                    resourceName(resource.urn),
                    JSON.stringify(resource.outputs?.stdout ?? "").length + JSON.stringify(resource.outputs?.stderr ?? "").length,
                ]),
        );
        expect(Object.keys(outputSizes).sort(), "the steps whose output it checked").to.deep.equal(
            runSteps.map((step) => stepResource(step.name)).sort(),
        );
        expect(Object.entries(outputSizes).filter(([, size]) => size > 2048)).to.deep.equal([]);
        expect(await sandbox.exec("grep -c 'Setting up nginx' /var/log/webstack-provisioning.log")).to.match(/^[1-9]/);
    });

    it("changes nothing on a second up", async () => {
        const startedAt = Date.now();
        const { result } = await recorded((options) => stack.up(options));
        figure(`no-change up: ${seconds(startedAt)} s`);
        expect(result.summary.resourceChanges).to.deep.equal({ same: plannedFor(2, API_TOKEN).plan.length + BESIDE_STEPS });
    });

    it("previews with the pull request's placeholder instead of the key, every step's connection changed and nothing else, and refuses up with it", async () => {
        await setStackConfig(stack, { "webstack:sshPrivateKey": { value: PREVIEW_KEY_PLACEHOLDER, secret: true } });
        try {
            const plan = plannedFor(2, API_TOKEN).plan;
            const { result, transcript } = await recorded((options) => stack.preview(options));
            expect(result.changeSummary).to.deep.equal({ same: 2, update: plan.length + 1 });
            const updates = transcript.events.flatMap((event) =>
                event.resourcePreEvent?.metadata.op === "update" ? [event.resourcePreEvent.metadata] : [],
            );
            expect(updates.map((update) => update.diffs)).to.deep.equal([...plan, "scripts"].map(() => ["connection"]));
            const refused = await recorded((options) => stack.up(options)).then(
                () => undefined,
                (error: Error) => error,
            );
            expect(String(refused?.message)).to.contain("pull-request preview's placeholder");
        } finally {
            await stack.removeConfig("webstack:sshPrivateKey");
        }
    });

    it("previews a hand edit of a step's file as that step changing, naming the file; up puts it back, and the next preview is clean", async () => {
        const original = await sandbox.exec(`cat ${NGINX_SITE_FILE}`);
        await sandbox.exec(`echo '# edited by hand' >> ${NGINX_SITE_FILE}`);
        const resources = plannedFor(2, API_TOKEN).plan.length + BESIDE_STEPS;

        const { result: preview, transcript } = await recorded((options) => stack.preview({ ...options, diff: true }));
        expect(namesWithOp(transcript.events, "update")).to.deep.equal([stepResource("nginx")]);
        expect(preview.changeSummary).to.deep.equal({ update: 1, same: resources - 1 });
        expect(transcript.output).to.contain(`repair 1: ${NGINX_SITE_FILE} changed on the server`);

        const startedAt = Date.now();
        const { result: repaired } = await recorded((options) => stack.up(options));
        figure(`drift round trip: the edit previewed, then up put it back in ${seconds(startedAt)} s`);
        expect(repaired.summary.resourceChanges).to.deep.equal({ update: 1, same: resources - 1 });
        expect(await sandbox.exec(`cat ${NGINX_SITE_FILE}`)).to.equal(original);

        const { result: clean } = await recorded((options) => stack.preview(options));
        expect(clean.changeSummary).to.deep.equal({ same: resources });
    });

    it("previews a change as exactly the steps whose script changed, applies only those, and the site answers throughout", async () => {
        const before = plannedFor(2, API_TOKEN);
        const after = plannedFor(3, ROTATED_API_TOKEN);
        const expected = changedSteps(before, after).map(stepResource);
        expect(expected).to.deep.equal(["webstack-app", "webstack-app-environment", "webstack-nginx"]);
        await stack.setAllConfig(configFor(3));
        await setApiToken(ROTATED_API_TOKEN);

        const { transcript: preview } = await recorded((options) => stack.preview({ ...options, diff: true }));
        expect(namesWithOp(preview.events, "update")).to.deep.equal([stepResource("scripts"), ...expected]);
        // The diff names the settings that changed: the app's ports, and nginx's upstream file by its hash.
        expect(preview.output).to.contain("APP_PORTS=3001 3002 3003");
        expect(preview.output).to.match(/UPSTREAM_CONF sha256:[0-9a-f]{12}/);

        const load = startLoad(site, { paths: ["/", "/api/posts?limit=5"] });
        const startedAt = Date.now();
        const { result, transcript } = await recorded((options) => stack.up(options));
        const report = await load.stop();
        figure(`change up (3 steps): ${seconds(startedAt)} s; ${report.sent} requests meanwhile, ${report.failed} failed`);
        expect(namesWithOp(transcript.events, "update")).to.deep.equal([stepResource("scripts"), ...expected]);
        expect(result.summary.resourceChanges).to.deep.equal({
            update: expected.length + 1,
            same: after.plan.length + BESIDE_STEPS - expected.length - 1,
        });
        expect(report.sent, "the load sent requests throughout the up").to.be.greaterThan(100);
        expect(report.failed, report.failures.join("\n")).to.equal(0);
        expect(await sandbox.exec("systemctl is-active webstack-app@3003")).to.equal("active\n");
    });

    it("fails up at a step the server refuses, with the step's error, keeps the site serving, and the next up after the fix resumes from that step", async () => {
        await sandbox.exec(`echo 'this is not an nginx directive;' > ${BROKEN_NGINX_FILE}`);
        await stack.setAllConfig(configFor(2));

        const failing = await recorded((options) => stack.up(options)).then(
            () => undefined,
            (error: Error) => ({ error, events: transcripts[transcripts.length - 1].events }),
        );
        expect(failing, "up succeeded with a broken nginx configuration").to.not.equal(undefined);
        const failedSteps =
            failing?.events.flatMap((event) => (event.resOpFailedEvent ? [resourceName(event.resOpFailedEvent.metadata.urn)] : [])) ?? [];
        expect(failedSteps).to.have.lengthOf(1);
        const [failedStep] = failedSteps;
        figure(`the step that failed: ${failedStep}`);
        const toChange = changedSteps(plannedFor(3, ROTATED_API_TOKEN), plannedFor(2, ROTATED_API_TOKEN)).map(stepResource);
        expect(toChange, "the failed step is one the change had to update").to.include(failedStep);
        const started =
            failing?.events.flatMap((event) => (event.resourcePreEvent ? [resourceName(event.resourcePreEvent.metadata.urn)] : [])) ?? [];
        expect(
            started.filter((name) => toChange.indexOf(name) > toChange.indexOf(failedStep)),
            "steps after the failed one did not run",
        ).to.deep.equal([]);
        expect(String(failing?.error.message)).to.contain(failedStep).and.to.contain(BROKEN_NGINX_FILE);
        expect((await request(site, "GET", "/api/posts?limit=1")).status).to.equal(200);

        const reloadPending = `${PENDING_ACTIONS_DIR}/nginx-reload`;
        expect(await sandbox.exec(`ls ${reloadPending}`), "the failed reload is not remembered").to.equal(`${reloadPending}\n`);
        const nginxWorkers = () => sandbox.exec("pgrep -d, -f '^nginx: worker'");
        const workersBeforeFix = await nginxWorkers();

        await sandbox.exec(`rm ${BROKEN_NGINX_FILE}`);
        const { result, transcript } = await recorded((options) => stack.up(options));
        expect(namesWithOp(transcript.events, "update")).to.deep.equal(toChange.slice(toChange.indexOf(failedStep)));
        expect(result.summary.result).to.equal("succeeded");
        expect(await nginxWorkers(), "nginx was not reloaded").to.not.equal(workersBeforeFix);
        expect(await sandbox.exec(`ls ${PENDING_ACTIONS_DIR}`)).to.equal("");
        expect(await sandbox.exec(`grep -c '${appSocketPath(3003)}' ${NGINX_UPSTREAM_FILE} || true`)).to.equal("0\n");
    });

    it("keeps every line of the private key, the database password and the app's secret value out of the state, the engine's output, its events, its logs and any process's command line", async () => {
        const databasePassword = (await sandbox.exec(`sed -n 's/^DB_PASSWORD=//p' ${APP_DATABASE_ENV_FILE}`)).trim().replace(/^"|"$/g, "");
        const secrets = {
            ...Object.fromEntries(privateKeyLines.map((line, index) => [`line ${index + 1} of the private key`, line])),
            "the database password": databasePassword,
            "the app's API token": API_TOKEN,
            "the rotated API token": ROTATED_API_TOKEN,
        };
        expect(databasePassword).to.have.length.greaterThan(15);
        const places = {
            "state files (the backend's, history and backups included)": filesUnder(engineStateLayout(stateDir).backend)
                .map((file) => readFileSync(file, "utf8"))
                .join(""),
            "engine output": transcripts.map((transcript) => transcript.output).join(""),
            "engine events": transcripts.map((transcript) => JSON.stringify(transcript.events)).join(""),
            [`engine logs (-v=${LOG_VERBOSITY})`]: transcripts.map((transcript) => transcript.logs).join(""),
            "command lines of the processes that ran meanwhile": commandLines.seen().join("\n"),
        };
        expect(commandLines.seen().filter((line) => line.includes("pulumi"))).to.not.deep.equal([]);
        expect(places["engine logs (-v=5)"]).to.have.length.greaterThan(10_000);
        const found = Object.entries(places).flatMap(([place, text]) =>
            Object.entries(secrets)
                .filter(([, secret]) => text.includes(secret))
                .map(([what]) => `${what} in the ${place}`),
        );
        expect(found).to.deep.equal([]);
    });

    it("passes the policy pack under the engine, and refuses a config that breaks a policy with the policy's message", async () => {
        const policyPack = join(REPO_ROOT, "policy");
        const { result } = await recorded((options) => stack.preview({ ...options, policyPacks: [policyPack] }));
        expect(result.changeSummary).to.deep.equal({ same: plannedFor(2, ROTATED_API_TOKEN).plan.length + BESIDE_STEPS });

        await stack.removeConfig("webstack:sshHostKey");
        try {
            const refused = await recorded((options) => stack.preview({ ...options, policyPacks: [policyPack] })).then(
                () => undefined,
                (error: Error) => error,
            );
            expect(refused, "the preview passed without a pinned host key").to.be.instanceOf(Error);
            expect(String(refused?.message)).to.contain("ssh-host-key-pinned").and.to.contain("webstack:sshHostKey");
        } finally {
            await stack.setAllConfig(configFor(2));
        }
    });

    it("destroys every resource of the stack, and leaves the server as it was configured: no step has a delete command", async () => {
        const { result } = await recorded((options) => stack.destroy(options));
        expect(result.summary.resourceChanges).to.deep.equal({ delete: plannedFor(2, ROTATED_API_TOKEN).plan.length + BESIDE_STEPS });
        const deployment = (await stack.exportStack()).deployment as { resources?: unknown[] };
        expect(deployment.resources ?? []).to.deep.equal([]);
        expect((await request(site, "GET", "/")).status).to.equal(200);
        expect(readFileSync(join(stateDir, "project", "Pulumi.yaml"), "utf8")).to.contain(`main: ${REPO_ROOT}`);
    });
});
