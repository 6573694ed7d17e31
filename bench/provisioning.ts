/**
 * The provisioning figures: a cold provision against `apt-get install` of the same packages, a
 * no-change re-run, and the real Pulumi engine beside the sandbox's runner on the same server.
 */
import type { Plan, PlanInputs } from "../provisioning";
import { PENDING_SECURITY_UPDATES_COMMAND, SERVER_PACKAGES } from "../provisioning/steps/packages";
import { setStackConfig } from "../sandbox/executors/engine";
import { applyPlan } from "../sandbox/executors/runner";
import { destroySandbox, startSandbox } from "../sandbox/sandbox";
import type { Sandbox } from "../sandbox/host/state";
import type { Figure } from "./measure";
import { benchLog, type BenchRun, onServer, SERVER_MEMORY_MIB, timed, withProgramPeakMiB, withSandboxStack } from "./probes";

/** What the program may hold under the engine: a workstation or a CI runner runs it beside everything else. */
const PROGRAM_PEAK_MIB_TARGET = 600;

const quiet = { log: () => undefined };

/** The plan applied to another fresh server, timed; the server is removed after. */
async function coldProvisionSeconds(plan: Plan, inputs: PlanInputs): Promise<number> {
    const fresh = await startSandbox({ name: "bench-cold", log: benchLog, memoryLimitMiB: SERVER_MEMORY_MIB });
    try {
        return (await timed(() => applyPlan(plan, fresh.ssh, inputs, quiet))).seconds;
    } finally {
        await destroySandbox("bench-cold", benchLog);
    }
}

/**
 * `apt-get install` of what the plan installs, on another fresh server: the same packages and the
 * same security updates (the plan's packages step installs both in one transaction).
 */
async function bareInstallSeconds(): Promise<number> {
    const bare = await startSandbox({ name: "bench-bare", log: benchLog, memoryLimitMiB: SERVER_MEMORY_MIB });
    try {
        const install = [
            "apt-get update -q >/dev/null",
            `updates="$(${PENDING_SECURITY_UPDATES_COMMAND})"`,
            `DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends ${SERVER_PACKAGES.join(" ")} $updates >/dev/null`,
        ].join(" && ");
        return (await timed(() => onServer(bare, install))).seconds;
    } finally {
        await destroySandbox("bench-bare", benchLog);
    }
}

/**
 * The real Pulumi engine doing the same work as the sandbox's runner on the same server: a no-change
 * `pulumi up` (the Automation API's, which skips the preview) beside the runner's no-change re-run, and a
 * `pulumi up` after a change of one rendered file (the app's environment, whose step restarts the
 * instances one at a time) beside the runner applying the plan with such a change.
 */
async function engineFigures(
    server: Sandbox,
    runner: { plan: Plan; inputs: PlanInputs; runnerNoChangeSeconds: number },
    figures: Figure[],
): Promise<void> {
    console.log("the real Pulumi engine on the same server: adopting it, a no-change up, and an up that changes one file");
    await withSandboxStack(server, async (stack) => {
        const adopted = await withProgramPeakMiB(() => timed(() => stack.up()));
        const noChange = await timed(() => stack.up());
        figures.push({
            name: "no-change pulumi up",
            value: noChange.seconds,
            unit: "s",
            baseline: runner.runnerNoChangeSeconds,
            target: { kind: "ratio-at-most", bound: 1.5 },
            detail: `${JSON.stringify(noChange.result.summary.resourceChanges)}; the baseline is the runner's no-change re-run; adopting the configured server took ${adopted.result.seconds.toFixed(1)} s`,
        });
        figures.push({
            name: "the program's peak memory under the engine",
            value: Math.round(adopted.peakMiB),
            unit: "MiB",
            target: { kind: "at-most", bound: PROGRAM_PEAK_MIB_TARGET },
            detail: "the resident memory's high-water mark (VmHWM) of the Node.js process running index.ts, during the up that adopts the server",
        });
        const runnerChange = await timed(() =>
            applyPlan(runner.plan, server.ssh, { ...runner.inputs, appEnvironment: { BENCH_TOKEN: "runner" } }, quiet),
        );
        await setStackConfig(stack, { "webstack:appEnvironment.BENCH_TOKEN": { value: "engine", secret: true } }, { path: true });
        const engineChange = await timed(() => stack.up());
        figures.push({
            name: "pulumi up changing one file",
            value: engineChange.seconds,
            unit: "s",
            baseline: runnerChange.seconds,
            detail: `${JSON.stringify(engineChange.result.summary.resourceChanges)}; the baseline is the runner applying the plan with the same kind of change`,
        });
    });
}

/**
 * Both download from Debian's mirror, whose speed varies from minute to minute: each is timed twice,
 * alternately, on fresh servers, and the faster run of each counts. The first cold run provisions
 * the benchmark's own server, which the other figures then measure.
 */
export async function provisioningFigures(run: BenchRun, plan: Plan): Promise<void> {
    console.log("cold provision against apt-get install of the same packages and security updates, each twice on fresh servers");
    const bare = [await bareInstallSeconds()];
    const colds = [(await timed(() => applyPlan(plan, run.server.ssh, run.inputs, quiet))).seconds];
    bare.push(await bareInstallSeconds());
    colds.push(await coldProvisionSeconds(plan, run.inputs));
    const rerun = await timed(() => applyPlan(plan, run.server.ssh, run.inputs, quiet));
    run.figures.push({
        name: "cold provision",
        value: Math.min(...colds),
        unit: "s",
        baseline: Math.min(...bare),
        target: { kind: "ratio-at-most", bound: 1.5 },
        detail: `runs ${colds.map((seconds) => seconds.toFixed(1)).join(" and ")} s; baseline ${bare.map((seconds) => seconds.toFixed(1)).join(" and ")} s`,
    });
    run.figures.push({ name: "no-change re-run", value: rerun.seconds, unit: "s", target: { kind: "at-most", bound: 5 } });
    await engineFigures(run.server, { plan, inputs: run.inputs, runnerNoChangeSeconds: rerun.seconds }, run.figures);
}

/** The engine's figures alone (`npm run bench -- engine`), on a server of their own that the runner provisions first. */
export async function engineOnlyFigures(figures: Figure[], plan: Plan): Promise<void> {
    const name = "bench-engine";
    const server = await startSandbox({ name, log: benchLog, memoryLimitMiB: SERVER_MEMORY_MIB });
    try {
        const inputs = { domain: server.domain };
        await applyPlan(plan, server.ssh, inputs, quiet);
        const rerun = await timed(() => applyPlan(plan, server.ssh, inputs, quiet));
        await engineFigures(server, { plan, inputs, runnerNoChangeSeconds: rerun.seconds }, figures);
    } finally {
        await destroySandbox(name, benchLog);
    }
}
