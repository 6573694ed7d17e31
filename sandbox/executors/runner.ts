import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { RUN_AS_ROOT, stepScript, type InputsFor, type Plan, type PlanInputs, type PlanStep } from "../../provisioning/plan";
import { shellQuote } from "../../provisioning/script";
import { CommandError, tailLines, type CommandResult } from "../host/exec";
import { sshRun, type SshTarget } from "../host/ssh";

/**
 * The sandbox's executor of a provisioning plan: the same steps, in the same order, as the Pulumi
 * provisioner applies them, over the system OpenSSH client. Uploads copy the file as the SSH user
 * (like pulumi-command's CopyToRemote); run steps pipe the script to `sudo bash -s`.
 */

export interface StepResult {
    readonly name: string;
    readonly kind: PlanStep["kind"];
    readonly seconds: number;
    /** What the step's last output line `changed: N` reported; undefined when it printed none. */
    readonly changed: number | undefined;
    readonly stdout: string;
}

export interface ApplyOptions {
    /** Receives one line when a step starts and one when it ends. Defaults to console.log. */
    readonly log?: (line: string) => void;
    /** Receives the steps' output as it arrives (for a verbose mode). Defaults to discarding it. */
    readonly onOutput?: (stream: "stdout" | "stderr", chunk: string) => void;
}

/** A step that failed: the message names the step and carries the tail of its stderr. */
export class PlanStepError extends Error {
    constructor(
        readonly step: string,
        readonly exitCode: number,
        readonly stderrTail: string,
        readonly stdoutTail: string = "",
    ) {
        super(stepFailureMessage(step, exitCode, stderrTail, stdoutTail));
        this.name = "PlanStepError";
    }
}

/** How many lines of a failed step's stdout its error shows: its last progress lines say where it stopped. */
const STDOUT_TAIL_LINES = 5;

function quoted(text: string): string {
    return text
        .split("\n")
        .map((line) => `  | ${line}`)
        .join("\n");
}

/** The error message for a failed step: its stderr tail, then its last lines of progress when it printed any. */
export function stepFailureMessage(step: string, exitCode: number, stderrTail: string, stdoutTail = ""): string {
    const stderr = stderrTail.trim() === "" ? "  (it printed nothing on stderr)" : quoted(stderrTail);
    const stdout = stdoutTail.trim() === "" ? "" : `\nits last output lines:\n${quoted(stdoutTail)}`;
    return `Plan step "${step}" failed with exit code ${exitCode}:\n${stderr}${stdout}`;
}

/** N from the last non-empty output line when it reads `changed: N`; undefined otherwise. */
export function parseChangedCount(stdout: string): number | undefined {
    const lastLine = stdout
        .split("\n")
        .map((line) => line.trim())
        .filter((line) => line !== "")
        .pop();
    const match = /^changed: (\d+)$/.exec(lastLine ?? "");
    return match ? Number(match[1]) : undefined;
}

/** The line printed when a step finishes. */
export function stepSummary(result: Pick<StepResult, "name" | "seconds" | "changed">): string {
    const changed = result.changed === undefined ? "" : `, changed: ${result.changed}`;
    return `  ✓ ${result.name} (${result.seconds.toFixed(1)} s${changed})`;
}

/**
 * The remote command of an upload: it writes stdin to the path atomically, as the SSH user, unless
 * the file there already has the same content, and reports `changed: 0|1` like a run step does.
 */
export function uploadCommand(remotePath: string, sha256: string): string {
    const path = shellQuote(remotePath);
    const staged = shellQuote(`${remotePath}.partial`);
    return [
        `if echo ${shellQuote(`${sha256}  ${remotePath}`)} | sha256sum --check --status 2>/dev/null; then echo "changed: 0";`,
        `else cat > ${staged} && mv -f ${staged} ${path} && echo "changed: 1"; fi`,
    ].join(" ");
}

function executeStep(step: PlanStep, target: SshTarget, inputs: PlanInputs, options: ApplyOptions): Promise<CommandResult> {
    if (step.kind === "upload") {
        const content = readFileSync(step.localPath);
        const sha256 = createHash("sha256").update(content).digest("hex");
        return sshRun(target, uploadCommand(step.remotePath, sha256), { input: content, onOutput: options.onOutput });
    }
    return sshRun(target, RUN_AS_ROOT, { input: stepScript(step, inputs), onOutput: options.onOutput });
}

/** Applies the plan's steps in order with the given inputs; stops at the first failing step with a {@link PlanStepError}. */
export async function applyPlan<Needs extends keyof PlanInputs = never>(
    plan: Plan<Needs>,
    target: SshTarget,
    inputs: NoInfer<InputsFor<Needs>>,
    options: ApplyOptions = {},
): Promise<StepResult[]> {
    const log = options.log ?? console.log;
    const results: StepResult[] = [];
    for (const step of plan) {
        log(`  → ${step.name}`);
        const startedAt = Date.now();
        let result: CommandResult;
        try {
            result = await executeStep(step, target, inputs, options);
        } catch (error) {
            if (error instanceof CommandError) {
                throw new PlanStepError(
                    step.name,
                    error.result.exitCode,
                    tailLines(error.result.stderr),
                    tailLines(error.result.stdout, STDOUT_TAIL_LINES),
                );
            }
            throw new Error(`Plan step "${step.name}" could not run: ${(error as Error).message}`);
        }
        const stepResult: StepResult = {
            name: step.name,
            kind: step.kind,
            seconds: (Date.now() - startedAt) / 1000,
            changed: parseChangedCount(result.stdout),
            stdout: result.stdout,
        };
        log(stepSummary(stepResult));
        results.push(stepResult);
    }
    return results;
}
