import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { appEnvironmentProblems } from "../provisioning/files/appEnvironment";
import {
    missingInputProblem,
    RUN_AS_ROOT,
    stepHoldsSecrets,
    stepScript,
    type BackupBucket,
    type Plan,
    type PlanInputs,
    type PlanStep,
    type RunStep,
} from "../provisioning/plan";
import { BUILD_DIR } from "../release/build";
import { driftSource, repairFor, type DriftReport } from "./driftCheck";
import {
    scriptLauncher,
    scriptSourcingLibrary,
    SHIPPED_LIBRARY,
    SHIPPED_SCRIPTS_DIR,
    shippedScript,
    writeShippedScripts,
} from "./shippedScripts";

/** The login user of Debian's cloud images, which has passwordless sudo. */
export const DEFAULT_SSH_USER = "admin";

/** How to reach the server over SSH. */
export interface SshConnectionArgs {
    /** Address or host name of the server. */
    host: pulumi.Input<string>;
    /** Login user; it needs passwordless sudo. Defaults to "admin" (Debian's cloud images). */
    user?: pulumi.Input<string>;
    /** SSH port. Defaults to 22. */
    port?: pulumi.Input<number>;
    /**
     * Private key (OpenSSH or PEM text). Pass a secret: it is kept encrypted in the state. Leave it
     * out to log in through the ssh-agent of the process that runs Pulumi (SSH_AUTH_SOCK): the key
     * then never enters the state, nor does the agent's socket path, which pulumi-command reads
     * from the environment as it connects.
     */
    privateKey?: pulumi.Input<string>;
    /** The server's public host key ("ssh-ed25519 AAAA..."); when set, any other key is refused. Defaults to not checking. */
    hostKey?: pulumi.Input<string>;
    /** A bastion to connect through. Defaults to a direct connection. */
    proxy?: pulumi.Input<command.types.input.remote.ProxyConnectionArgs>;
}

export interface RemoteProvisionerArgs {
    /** The server to configure. */
    connection: SshConnectionArgs;
    /** The steps to apply, in order (see provisioning/). */
    plan: Plan;
    /** The site's apex domain, for the steps that render it (buildPlan's nginx and certificate steps). Needed when the plan has those. */
    domain?: pulumi.Input<string>;
    /**
     * The app's own environment variables, for example API keys: written to a root-only file the app
     * instances read. The step that writes them keeps its script as a secret, so the values stay
     * encrypted in the state even when given in plain text; pass secrets anyway, so that they stay
     * secret in this program too. Defaults to none.
     */
    appEnvironment?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /**
     * The login user's public keys, for a plan that manages them (buildPlan's `sshAccess`): exactly
     * these stay authorized. Needed when the plan has that step.
     */
    authorizedKeys?: pulumi.Input<pulumi.Input<string>[]>;
    /** Where the server's backups go besides its own disk (WebServer's backup bucket). Defaults to none: they stay on the server. */
    backupBucket?: pulumi.Input<BackupBucket>;
    /**
     * Values that identify the server itself, such as its instance id: when one changes (a replaced
     * instance behind the same address), every step runs again on the new server. Defaults to none.
     */
    serverIdentity?: pulumi.Input<string>[];
    /** Resources that must exist before steps marked `needsDns` run (the DNS records). Defaults to none. */
    dnsReady?: pulumi.Resource[];
    /** Resources the first upload or step waits for (a new server's certificates, carried over before its plan). Defaults to none. */
    after?: pulumi.Resource[];
    /**
     * Whether to ask the server, as the program runs, which files that steps put were changed by hand
     * since, so that a preview shows those steps changing and `up` puts the files back (driftCheck.ts).
     * It dials the server, so a pull request's preview without access turns it off. Defaults to true.
     */
    checkDrift?: boolean;
    /**
     * How long to keep retrying the first SSH connection, in seconds: a new EC2 instance takes a
     * minute or two before sshd answers. Defaults to 600.
     */
    connectTimeoutSeconds?: number;
}

/** Where the program writes the scripts it uploads (see shippedScripts.ts): beside the release, in build/. */
const SHIPPED_SCRIPTS_BUILD_DIR = join(BUILD_DIR, "scripts");

/** Seconds per SSH dial attempt. */
const PER_DIAL_TIMEOUT_SECONDS = 10;
export const DEFAULT_CONNECT_TIMEOUT_SECONDS = 600;

/**
 * How pulumi-command waits between failed dials: the Pulumi SDK's retry defaults (retry.Until), a
 * first pause of 0.1 s growing 1.5 times a try, at most 5 s.
 */
export const DIAL_BACKOFF = { firstDelaySeconds: 0.1, factor: 1.5, maxDelaySeconds: 5 } as const;

/**
 * The least time pulumi-command keeps dialling with this dialErrorLimit, when every dial fails at once
 * (a refused connection, as from a server whose sshd has not started): the pauses between the
 * limit + 1 dials it makes. A dial that times out adds up to perDialTimeout to that.
 */
export function minimumDialingSeconds(dialErrorLimit: number): number {
    let total = 0;
    for (let pause = 0; pause < dialErrorLimit; pause += 1) {
        total += Math.min(DIAL_BACKOFF.firstDelaySeconds * DIAL_BACKOFF.factor ** pause, DIAL_BACKOFF.maxDelaySeconds);
    }
    return total;
}

/**
 * The dial settings that make pulumi-command wait for a booting server for at least
 * `connectTimeoutSeconds`, instead of giving up after seconds: the fewest failed dials whose pauses
 * add up to that ({@link minimumDialingSeconds}).
 */
export function dialSettings(connectTimeoutSeconds: number): { dialErrorLimit: number; perDialTimeout: number } {
    if (!Number.isInteger(connectTimeoutSeconds) || connectTimeoutSeconds < PER_DIAL_TIMEOUT_SECONDS) {
        throw new Error(
            `connectTimeoutSeconds is ${connectTimeoutSeconds}; expected a whole number of at least ${PER_DIAL_TIMEOUT_SECONDS}, for example ${DEFAULT_CONNECT_TIMEOUT_SECONDS}.`,
        );
    }
    let dialErrorLimit = 1;
    while (minimumDialingSeconds(dialErrorLimit) < connectTimeoutSeconds) {
        dialErrorLimit += 1;
    }
    return { dialErrorLimit, perDialTimeout: PER_DIAL_TIMEOUT_SECONDS };
}

/** The pulumi-command connection for a server: the caller's settings plus the dial retries. */
export function commandConnection(connection: SshConnectionArgs, connectTimeoutSeconds: number): command.types.input.remote.ConnectionArgs {
    return {
        host: connection.host,
        user: connection.user ?? DEFAULT_SSH_USER,
        port: connection.port ?? 22,
        privateKey: connection.privateKey === undefined ? undefined : pulumi.secret(connection.privateKey),
        hostKey: connection.hostKey,
        proxy: connection.proxy,
        ...dialSettings(connectTimeoutSeconds),
    };
}

/** The app's environment, its names and values checked before anything is created when they are plain; a ResourceError of `resource` otherwise. */
export function checkedAppEnvironment(
    environment: pulumi.Input<Record<string, pulumi.Input<string>>> | undefined,
    resource: pulumi.Resource,
): pulumi.Input<Record<string, pulumi.Input<string>>> {
    const plain =
        environment !== undefined && !pulumi.Output.isInstance(environment) && !(environment instanceof Promise) ? environment : undefined;
    if (plain !== undefined && Object.values(plain).every((value) => typeof value === "string")) {
        const problems = appEnvironmentProblems(plain as Record<string, string>);
        if (problems.length > 0) {
            throw new pulumi.ResourceError(`appEnvironment: ${problems.join("; ")}.`, resource);
        }
    }
    return environment ?? {};
}

/**
 * What a run step's Command shows and keeps of its output. Output can echo settings back, so the
 * engine's log shows stderr alone, which is enough to diagnose a failed step; and no script reads
 * the output of its previous run, so the provider does not hand it over.
 */
const RUN_STEP_OUTPUT = { logging: "stderr", addPreviousOutputInEnv: false } as const;

/**
 * What a step's triggers hold of one value of the server's identity: its hash, since every step keeps
 * its triggers twice in the state, and a host key is 80 characters where a hash's start will do.
 */
export function identityTrigger(value: string): string {
    return `sha256:${createHash("sha256").update(value).digest("hex").slice(0, 16)}`;
}

/** The resource name of a step: the component's name and the step's name. */
export function stepResourceName(provisionerName: string, step: PlanStep): string {
    return `${provisionerName}-${step.name}`;
}

/**
 * Applies a provisioning plan to a server over SSH: the run steps' scripts go first, in one upload
 * (shippedScripts.ts), then every upload step becomes a `CopyToRemote` and every run step a
 * `Command` that runs its script, each depending on the one before. A step runs again exactly when
 * its script or file changes, because their hashes are the resource's inputs.
 */
export class RemoteProvisioner extends pulumi.ComponentResource {
    /** The last step's resource: depend on it to run after the server is configured. */
    readonly lastStep: pulumi.Resource | undefined;

    constructor(name: string, args: RemoteProvisionerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("webstack:index:RemoteProvisioner", name, {}, opts);
        const connection = commandConnection(args.connection, args.connectTimeoutSeconds ?? DEFAULT_CONNECT_TIMEOUT_SECONDS);
        const dnsReady = args.dnsReady ?? [];
        const triggers = (args.serverIdentity ?? []).map((value) => pulumi.output(value).apply(identityTrigger));
        const appEnvironment = checkedAppEnvironment(args.appEnvironment, this);
        // A fleet's plan is WebFleet's: its servers configure themselves at first boot.
        const given: { readonly [Input in keyof PlanInputs]?: unknown } = {
            domain: args.domain,
            appEnvironment,
            authorizedKeys: args.authorizedKeys,
            backupBucket: args.backupBucket,
        };
        const scriptOf = (step: RunStep): pulumi.Input<string> => {
            if (typeof step.script === "string") {
                return step.script;
            }
            const problem = missingInputProblem(step, (input) => given[input] !== undefined);
            if (problem !== undefined) {
                throw new pulumi.ResourceError(problem, this);
            }
            const input = step.script.input;
            // pulumi.output unwraps the argument deeply into its input's value, as the arguments' types say.
            const value = pulumi.output(given[input]) as pulumi.Output<PlanInputs[typeof input]>;
            const script = value.apply((resolved) => stepScript(step, { [input]: resolved }));
            return stepHoldsSecrets(step) ? pulumi.secret(script) : script;
        };

        const uploadName = `${name}-scripts`;
        const runSteps = args.plan.filter((step): step is RunStep => step.kind === "run");
        const uploaded = new Map(
            runSteps
                .filter((step) => !stepHoldsSecrets(step))
                .map((step) => [step.name, pulumi.output(scriptOf(step)).apply((script) => shippedScript(step.name, script))]),
        );
        const needsLibrary = runSteps.some(stepHoldsSecrets);
        let previous: pulumi.Resource | undefined =
            runSteps.length === 0
                ? undefined
                : new command.remote.CopyToRemote(
                      uploadName,
                      {
                          connection,
                          source: pulumi
                              .all([...uploaded.values()])
                              .apply(
                                  (scripts) =>
                                      new pulumi.asset.FileArchive(
                                          writeShippedScripts(
                                              [...scripts, ...(needsLibrary ? [SHIPPED_LIBRARY] : [])],
                                              SHIPPED_SCRIPTS_BUILD_DIR,
                                          ),
                                      ),
                              ),
                          remotePath: SHIPPED_SCRIPTS_DIR,
                          triggers,
                      },
                      { parent: this, dependsOn: args.after ?? [] },
                  );
        const drift = args.checkDrift === false ? pulumi.output<DriftReport>({}) : this.driftOf(args.connection);
        const stdinOf = (step: RunStep): pulumi.Input<string> => {
            const repair = drift.apply((steps) => repairFor(steps[step.name]));
            const script = uploaded.get(step.name);
            return script === undefined
                ? pulumi.secret(
                      pulumi
                          .all([scriptOf(step), repair])
                          .apply(([text, stepRepair]) => scriptSourcingLibrary(step.name, text, uploadName, stepRepair)),
                  )
                : pulumi.all([script, repair]).apply(([shipped, stepRepair]) => scriptLauncher(step.name, shipped, uploadName, stepRepair));
        };

        for (const step of args.plan) {
            const dependsOn = [...(previous ? [previous] : (args.after ?? [])), ...(step.kind === "run" && step.needsDns ? dnsReady : [])];
            const resourceName = stepResourceName(name, step);
            const options = { parent: this, dependsOn };
            previous =
                step.kind === "upload"
                    ? new command.remote.CopyToRemote(
                          resourceName,
                          { connection, source: new pulumi.asset.FileAsset(step.localPath), remotePath: step.remotePath, triggers },
                          options,
                      )
                    : new command.remote.Command(
                          resourceName,
                          { connection, create: RUN_AS_ROOT, stdin: stdinOf(step), ...RUN_STEP_OUTPUT, triggers },
                          { ...options, additionalSecretOutputs: stepHoldsSecrets(step) ? ["stdout", "stderr"] : [] },
                      );
        }
        this.lastStep = previous;
        this.registerOutputs({});
    }

    /**
     * What the drift check (driftCheck.ts) finds on the server, over the steps' connection: nothing
     * when the host key is not pinned (it never dials a server it cannot verify) or it connects
     * through a bastion, and nothing, with a warning, when the server does not answer (a new one
     * still booting).
     */
    private driftOf(connection: SshConnectionArgs): pulumi.Output<DriftReport> {
        // The report names files, no secret: it must not make every step's stdin secret along with the key.
        const report = pulumi
            .all([
                connection.host,
                connection.user ?? DEFAULT_SSH_USER,
                connection.port ?? 22,
                connection.hostKey,
                connection.privateKey,
                connection.proxy,
            ])
            .apply(async ([host, user, port, hostKey, privateKey, proxy]) => {
                if (hostKey === undefined || proxy !== undefined) {
                    return {};
                }
                try {
                    return await driftSource.read({ host, user, port, hostKey, privateKey });
                } catch (error) {
                    await pulumi.log.warn(
                        `Could not ask ${host} which files changed by hand since their steps ran (${(error as Error).message}); the steps run as their scripts say. A new server still booting gives this once.`,
                        this,
                    );
                    return {};
                }
            });
        return pulumi.unsecret(report);
    }
}
