import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { keyPairMaterial } from "../../provisioning/formats";
import { checkerFor } from "../resourceErrors";
import { architectureOf, IMDSV2_ONLY, runningInstanceNamed, serverImageId, type RunningInstance } from "../ec2";
import type { ComponentContext } from "../context";
import { SNAPSHOT_TARGET_TAG } from "./snapshots";
import { generationOfName, generationResourceName } from "./generations";

/**
 * Why `wantedType` cannot replace the type of the server the stack runs (`runningType`), or undefined
 * when it can: the server keeps its image across updates, and an image of one architecture does not
 * boot on the other, so EC2 would stop the server and fail to start it.
 */
export function architectureChangeProblem(runningType: string | undefined, wantedType: string): string | undefined {
    if (runningType === undefined || architectureOf(runningType) === architectureOf(wantedType)) {
        return undefined;
    }
    return (
        `instanceType is ${wantedType} (${architectureOf(wantedType)}), but the server runs ${runningType} (${architectureOf(runningType)}), ` +
        `and its ${architectureOf(runningType)} image cannot boot on ${architectureOf(wantedType)}. Keep an ${architectureOf(runningType)} type, ` +
        "or move the site to a new server of that type, under load and without losing a write: put a new generation first in " +
        "webstack:serverGenerations (for example 2,1) and run pulumi up (docs/replacement.md)."
    );
}

export interface InstanceSettings {
    /** Which of the stack's servers this is ({@link generationResourceName}). */
    readonly generation: number;
    /** The server that serves the site is protected and follows the config; a kept one stays as it was. */
    readonly serving: boolean;
    readonly keyName: pulumi.Input<string>;
    readonly instanceType: string;
    readonly amiId?: pulumi.Input<string>;
    readonly subnetId?: pulumi.Input<string>;
    readonly rootVolumeSizeGiB: pulumi.Input<number>;
    readonly securityGroupIds: pulumi.Input<string>[];
    /** The instance profile whose role the server acts as. */
    readonly instanceProfile: pulumi.Input<string>;
    /** cloud-init's user data, read at the first boot only (the server's host key: server/hostKey.ts). */
    readonly userData: pulumi.Input<string>;
    /** The value of the root volume's snapshot tag ({@link SNAPSHOT_TARGET_TAG}). */
    readonly snapshotTarget: string;
    /** The server already running, which must keep its architecture (its image does): {@link runningServer}. */
    readonly running: pulumi.Output<RunningInstance | undefined>;
    /** Resolves once the servers the config lists are known to fit those EC2 has; no instance is created or changed before. */
    readonly generationsChecked: pulumi.Output<unknown>;
}

/** The tags of a generation's server: its Name carries its generation ({@link generationResourceName}). */
export function instanceTags(context: ComponentContext, generation: number): Record<string, string> {
    return context.tagsFor(generationResourceName("instance", generation));
}

/** The stack's server of that generation as EC2 runs it now (found by its tags), or undefined before there is one. */
export function runningServer(context: ComponentContext, generation: number): pulumi.Output<RunningInstance | undefined> {
    return runningInstanceNamed(instanceTags(context, generation).Name, { parent: context.parent });
}

/**
 * The tag of a server the stack keeps, stopped, for the site to move back to: the policy pack asks it
 * for termination protection but not for Pulumi's protect, which would stop the list from dropping it.
 */
export const KEPT_SERVER_TAG = "webstack-kept-server";

/** The generations of the stack's servers EC2 has now (in any state but terminated), from their Name tags. */
export function existingGenerations(context: ComponentContext): pulumi.Output<number[]> {
    const baseName = instanceTags(context, 1).Name;
    const parent = { parent: context.parent };
    return aws.ec2
        .getInstancesOutput(
            {
                instanceTags: { Name: `${baseName}*`, stack: pulumi.getStack() },
                instanceStateNames: ["pending", "running", "stopping", "stopped"],
            },
            parent,
        )
        .apply((found) =>
            pulumi.all(
                found.ids.map((instanceId) =>
                    aws.ec2.getInstanceOutput({ instanceId }, parent).apply((instance) => instance.tags?.Name ?? ""),
                ),
            ),
        )
        .apply((names) =>
            names.map((name) => generationOfName(name, baseName)).filter((generation): generation is number => generation !== undefined),
        );
}

/** What a kept server keeps as it was launched, whatever the config says now: it is the server the site may move back to. */
export const KEPT_SERVER_IGNORED_INPUTS = [
    "ami",
    "instanceType",
    "keyName",
    "userData",
    "subnetId",
    "vpcSecurityGroupIds",
    "iamInstanceProfile",
    "rootBlockDevice",
    "metadataOptions",
    "maintenanceOptions",
] as const;

/**
 * Why the steps cannot pin `hostKey`, the key the stack gives its server at first boot, on the
 * running server, or undefined when they can: a server launched before the stack gave it a host key
 * (its user data does not hold that key) has a key of its own, which only its owner can vouch for.
 */
export function hostKeyProblem(running: RunningInstance | undefined, hostKey: string): string | undefined {
    if (running === undefined || running.userData.includes(hostKey)) {
        return undefined;
    }
    return (
        "the running server was launched before the stack gave its servers their SSH host key, so its key is its own. " +
        "Pin it once: pulumi config set webstack:sshHostKey \"$(ssh-keyscan -t ed25519 <its address> | cut -d' ' -f2-)\" " +
        "(compare the fingerprint with the one the instance printed on its console: aws ec2 get-console-output)."
    );
}

/** The key pair EC2 installs for the login user at a server's first boot. */
export function declareKeyPair(context: ComponentContext, sshPublicKey: pulumi.Input<string>): aws.ec2.KeyPair {
    // The key's comment is no part of it: editing it must not make a new key pair.
    return new aws.ec2.KeyPair(
        `${context.name}-key`,
        {
            publicKey: pulumi.output(sshPublicKey).apply((key) => checkerFor(context.parent)(undefined, () => keyPairMaterial(key))),
            tags: context.tagsFor("key"),
        },
        { parent: context.parent },
    );
}

/**
 * One of the stack's servers: an instance with IMDSv2 only, an encrypted gp3 root volume, automatic
 * recovery and protection from termination. The one that serves is also protected from replacement
 * and refuses to move to the other architecture ({@link architectureChangeProblem}); a kept one
 * stays as it was launched, and may be deleted once the config lists it no more.
 */
export function declareInstance(context: ComponentContext, settings: InstanceSettings): aws.ec2.Instance {
    const { name } = context;
    const parent = { parent: context.parent };
    const { instanceType, amiId } = settings;

    const checkedInstanceType = settings.running.apply((running) => {
        const problem = amiId === undefined ? architectureChangeProblem(running?.instanceType, instanceType) : undefined;
        if (problem !== undefined) {
            throw new pulumi.ResourceError(problem, context.parent);
        }
        return instanceType;
    });

    return new aws.ec2.Instance(
        generationResourceName(`${name}-instance`, settings.generation),
        {
            ami: serverImageId(amiId, instanceType, parent),
            instanceType: pulumi
                .all([settings.generationsChecked, settings.serving ? checkedInstanceType : instanceType])
                .apply(([, type]) => type),
            subnetId: settings.subnetId,
            keyName: settings.keyName,
            vpcSecurityGroupIds: settings.securityGroupIds,
            iamInstanceProfile: settings.instanceProfile,
            userData: settings.userData,
            metadataOptions: IMDSV2_ONLY,
            rootBlockDevice: {
                volumeType: "gp3",
                volumeSize: settings.rootVolumeSizeGiB,
                encrypted: true,
                deleteOnTermination: true,
                tags: {
                    ...context.tagsFor(generationResourceName("root", settings.generation)),
                    [SNAPSHOT_TARGET_TAG]: settings.snapshotTarget,
                },
            },
            maintenanceOptions: { autoRecovery: "default" },
            // The server holds the database: a terminate call by mistake is refused.
            disableApiTermination: true,
            tags: { ...instanceTags(context, settings.generation), ...(settings.serving ? {} : { [KEPT_SERVER_TAG]: "true" }) },
        },
        settings.serving
            ? // A newer Debian image must not replace a running server; a new server is a new generation.
              // Nor a new key pair or user data: EC2 and cloud-init read them at the first boot only, and a
              // change would replace the server (keyName) or stop and start it (userData) for nothing.
              // Any replacement or destroy stops at `protect` until it is lifted (lift-protection.sh).
              { ...parent, protect: true, ignoreChanges: [...(amiId === undefined ? ["ami"] : []), "keyName", "userData"] }
            : { ...parent, ignoreChanges: [...KEPT_SERVER_IGNORED_INPUTS] },
    );
}

/**
 * Whether one of the stack's servers runs: a kept server is stopped once the address has left it
 * (`after`), and started again when the site moves back to it.
 */
export function declareInstanceState(
    context: ComponentContext,
    generation: number,
    instanceId: pulumi.Input<string>,
    state: "running" | "stopped",
    after: pulumi.Resource[] = [],
): aws.ec2transitgateway.InstanceState {
    return new aws.ec2transitgateway.InstanceState(
        generationResourceName(`${context.name}-instance-state`, generation),
        { instanceId, state },
        { parent: context.parent, dependsOn: after },
    );
}
