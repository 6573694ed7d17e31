/**
 * The provisioning plan: the server's whole configuration as an ordered list of steps.
 *
 * Three executors apply a plan: `components/remoteProvisioner.ts` (Pulumi, over SSH, for EC2 or any
 * host), `sandbox/executors/runner.ts` (a plain SSH runner, for the local Debian server) and
 * `components/fleet/firstBoot.ts` (a fleet's server applying it to itself at first boot). None knows what
 * a step does, so everything a server needs lives here as data.
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

/** The database a fleet's servers share (RDS in the `ha` topology): where it is, and where its credentials are. */
export interface FleetDatabase {
    readonly host: string;
    readonly port: number;
    readonly name: string;
    /** The Secrets Manager secret that holds the master user's name and password (RDS manages and rotates it): for migrations. */
    readonly masterSecretArn: string;
    /** The Secrets Manager secret that holds the app's own user's name and password (the stack makes it): what the app connects as. */
    readonly appSecretArn: string;
    /** The CA bundle (PEM) the database server's certificate chains to: the connection is TLS, its host name checked. */
    readonly trustedCaPem: string;
}

/** What a server of a fleet (the `ha` topology) learns from the infrastructure around it when the plan is rendered. */
export interface FleetInputs {
    /** The AWS region: where Secrets Manager is asked for the database's credentials. */
    readonly region: string;
    /** Where the load balancer connects from (the VPC's address blocks): nginx takes a client's address from X-Forwarded-For only from these. */
    readonly loadBalancerCidrs: readonly string[];
    readonly database: FleetDatabase;
}

/** Where a server's backups leave it for: an S3 bucket, the server's own prefix in it, and the bucket's region. */
export interface BackupBucket {
    readonly bucket: string;
    /** Without a slash at either end. */
    readonly prefix: string;
    readonly region: string;
}

/**
 * What the executor hands a plan when it applies it, rather than the plan holding it: values a Pulumi
 * program may know only as Outputs (the domain of a zone it creates) or must keep secret (the app's
 * environment). The plan's shape, its steps and their names, never depends on them.
 */
export interface PlanInputs {
    /** The apex domain, for example example.com: the site is www.<domain>. */
    readonly domain: string;
    /** The app's own environment variables, secrets among them. Defaults to none. */
    readonly appEnvironment?: Readonly<Record<string, string>>;
    /** Only for a fleet's plan (buildFleetPlan), which needs it; no default. */
    readonly fleet?: FleetInputs;
    /** The login user's public keys, for a plan that manages them (ServerSettings.sshAccess); no default. */
    readonly authorizedKeys?: readonly string[];
    /** Where the server's backups go besides its own disk. Defaults to null: they stay on the server. */
    readonly backupBucket?: BackupBucket | null;
}

type ResolvedPlanInputs = Required<PlanInputs>;
/** The value of one plan input, as a script template receives it (the defaults applied). */
export type PlanInputValue<Input extends keyof PlanInputs> = ResolvedPlanInputs[Input];

/** A script rendered, when the plan is applied, from one of the {@link PlanInputs}. */
export type ScriptTemplate = {
    [Input in keyof ResolvedPlanInputs]: { readonly input: Input; readonly render: (value: ResolvedPlanInputs[Input]) => string };
}[keyof ResolvedPlanInputs];

/** Runs a self-contained bash script as root ({@link RUN_AS_ROOT}). */
export interface RunStep {
    readonly kind: "run";
    /** Unique within the plan, kebab-case: it names the Pulumi resource. */
    readonly name: string;
    /**
     * The complete script, or its template when it depends on the plan's inputs. Settings are written
     * into it; it never relies on the SSH environment.
     */
    readonly script: string | ScriptTemplate;
    /** True when the step needs `www.<domain>` to resolve to the server (an ACME HTTP-01 challenge). */
    readonly needsDns?: boolean;
}

export type PlanStep = UploadStep | RunStep;
declare const NEEDS: unique symbol;

/**
 * A server's configuration: its steps, in the order they are applied. `Needs` names the inputs
 * without a default that its scripts render from (a fleet's plan needs `fleet`), so that whoever
 * applies it must give inputs that have them ({@link InputsFor}), which the types check.
 */
export type Plan<Needs extends keyof PlanInputs = never> = readonly PlanStep[] & { readonly [NEEDS]?: Needs };

/** A plan whatever inputs it needs: for what reads its steps without rendering them. */
export type AnyPlan = Plan<keyof PlanInputs>;

/** The inputs a plan that needs `Needs` is applied with. */
export type InputsFor<Needs extends keyof PlanInputs> = PlanInputs & Required<Pick<PlanInputs, Needs>>;

/**
 * What a script rendered from each input gets when the executor gives none: the input's default, or,
 * for an input without one, what a message says the step needs it for. A new input kind is one entry.
 */
const INPUT_WHEN_MISSING: {
    readonly [Input in keyof PlanInputs]-?: { readonly fallback: ResolvedPlanInputs[Input] } | { readonly neededFor: string };
} = {
    domain: { neededFor: `renders the site's domain and needs the domain input, for example "example.com"` },
    appEnvironment: { fallback: {} },
    fleet: {
        neededFor:
            "configures a fleet's server and needs the fleet input (region, load balancer blocks, database); apply a fleet's plan with it",
    },
    authorizedKeys: { neededFor: "authorizes the login user's SSH keys and needs the authorizedKeys input: the keys to keep" },
    backupBucket: { fallback: null },
};

/** The problem with rendering the step when `isGiven` says which inputs the executor has: one it needs that has no default. */
export function missingInputProblem(step: RunStep, isGiven: (input: keyof PlanInputs) => boolean): string | undefined {
    if (typeof step.script === "string" || isGiven(step.script.input)) {
        return undefined;
    }
    const whenMissing = INPUT_WHEN_MISSING[step.script.input];
    return "neededFor" in whenMissing ? `Plan step "${step.name}" ${whenMissing.neededFor}.` : undefined;
}

/** The script a run step runs with the given inputs; throws {@link missingInputProblem}'s message when it lacks one. */
export function stepScript(step: RunStep, inputs: Partial<PlanInputs>): string {
    const script = step.script;
    if (typeof script === "string") {
        return script;
    }
    const problem = missingInputProblem(step, (input) => inputs[input] !== undefined);
    if (problem !== undefined) {
        throw new Error(problem);
    }
    const whenMissing = INPUT_WHEN_MISSING[script.input];
    const value = inputs[script.input] ?? ("fallback" in whenMissing ? whenMissing.fallback : undefined);
    // The template and its input's value match by construction (ScriptTemplate); TypeScript cannot correlate the two unions.
    return (script.render as (value: unknown) => string)(value);
}

/**
 * Whether a step's script carries secrets (the app's environment): every executor keeps such a
 * script, and whatever the step prints, as a secret.
 */
export function stepHoldsSecrets(step: PlanStep): boolean {
    return step.kind === "run" && typeof step.script !== "string" && step.script.input === "appEnvironment";
}

/**
 * The names of the steps of `after` that an executor applies again when the server has `before`
 * applied: the new ones, and those whose script (rendered with its inputs) or upload differs. The
 * Pulumi executor's diff names exactly these, since a step's script or file is its resource's input.
 */
export function changedSteps(before: { plan: Plan; inputs: PlanInputs }, after: { plan: Plan; inputs: PlanInputs }): string[] {
    const fingerprint = (step: PlanStep, inputs: PlanInputs) =>
        step.kind === "run" ? stepScript(step, inputs) : `${step.localPath} -> ${step.remotePath}`;
    const applied = new Map(before.plan.map((step) => [step.name, fingerprint(step, before.inputs)]));
    return after.plan.filter((step) => applied.get(step.name) !== fingerprint(step, after.inputs)).map((step) => step.name);
}

/** Where uploads land: persistent (not a tmpfs), created by the first step, owned by the SSH user. */
export const UPLOAD_DIR = "/var/lib/webstack/uploads";

const STEP_NAME = /^[a-z][a-z0-9-]*$/;

/** Throws unless every step has a unique kebab-case name and every upload targets {@link UPLOAD_DIR}. */
export function checkedPlan<Needs extends keyof PlanInputs = never>(plan: Plan<Needs>): Plan<Needs> {
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
