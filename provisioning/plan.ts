/**
 * The provisioning plan: the server's whole configuration as an ordered list of steps.
 *
 * Two executors apply a plan: `components/remoteProvisioner.ts` (Pulumi, over SSH, for EC2 or any
 * host) and `sandbox/` (a plain SSH runner, for the local Debian server). Neither knows what a step
 * does, so everything a server needs lives here as data.
 */

/**
 * Copies a local file to the server as the SSH user. Uploads land in {@link UPLOAD_DIR}, which the
 * first run step creates and hands to the SSH user; a later run step moves the file into place.
 */
export interface UploadStep {
    readonly kind: "upload";
    /** Unique within the plan, kebab-case: it names the Pulumi resource. */
    readonly name: string;
    /** Path of the file on the workstation. */
    readonly localPath: string;
    /** Absolute path on the server, inside {@link UPLOAD_DIR}. */
    readonly remotePath: string;
}

/** How every executor starts a run step on the server: as root, the script on stdin, so nothing depends on sshd's AcceptEnv. */
export const RUN_AS_ROOT = "sudo bash -s";

/** Runs a self-contained bash script as root ({@link RUN_AS_ROOT}). */
export interface RunStep {
    readonly kind: "run";
    /** Unique within the plan, kebab-case: it names the Pulumi resource. */
    readonly name: string;
    /** The complete script. Settings are written into it; it never relies on the SSH environment. */
    readonly script: string;
    /** True when the step needs `www.<domain>` to resolve to the server (an ACME HTTP-01 challenge). */
    readonly needsDns?: boolean;
}

export type PlanStep = UploadStep | RunStep;
export type Plan = readonly PlanStep[];

/** Where uploads land: persistent (not a tmpfs), created by the first step, owned by the SSH user. */
export const UPLOAD_DIR = "/var/lib/webstack/uploads";

const STEP_NAME = /^[a-z][a-z0-9-]*$/;

/** Throws unless every step has a unique kebab-case name and every upload targets {@link UPLOAD_DIR}. */
export function validatePlan(plan: Plan): Plan {
    const seen = new Set<string>();
    for (const step of plan) {
        if (!STEP_NAME.test(step.name)) {
            throw new Error(`Plan step name "${step.name}" is not kebab-case (for example "install-nginx").`);
        }
        if (seen.has(step.name)) {
            throw new Error(`Plan step name "${step.name}" is used twice; step names must be unique.`);
        }
        seen.add(step.name);
        if (step.kind === "upload" && !step.remotePath.startsWith(`${UPLOAD_DIR}/`)) {
            throw new Error(`Upload step "${step.name}" targets ${step.remotePath}; uploads must go under ${UPLOAD_DIR}/.`);
        }
    }
    return plan;
}
