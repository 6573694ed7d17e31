import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { keyPairMaterial } from "../../provisioning/formats";
import { checkerFor } from "../resourceErrors";
import { architectureOf, IMDSV2_ONLY, runningInstanceNamed, serverImageId, type RunningInstance } from "../ec2";
import type { ComponentContext } from "../context";
import { SNAPSHOT_TARGET_TAG } from "./snapshots";

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
        "or move to a new server: take a backup (webstack-backup), set webstack:amiId to a Debian image of the new architecture, " +
        "lift the instance's protection (README: Teardown) and run pulumi up, then restore the dump."
    );
}

export interface InstanceSettings {
    readonly instanceType: string;
    readonly amiId?: pulumi.Input<string>;
    readonly subnetId?: pulumi.Input<string>;
    readonly rootVolumeSizeGiB: pulumi.Input<number>;
    readonly sshPublicKey: pulumi.Input<string>;
    readonly securityGroupIds: pulumi.Input<string>[];
    /** The instance profile whose role the server acts as. */
    readonly instanceProfile: pulumi.Input<string>;
    /** cloud-init's user data, read at the first boot only (the server's host key: server/hostKey.ts). */
    readonly userData: pulumi.Input<string>;
    /** The value of the root volume's snapshot tag ({@link SNAPSHOT_TARGET_TAG}). */
    readonly snapshotTarget: string;
    /** The server already running, which must keep its architecture (its image does): {@link runningServer}. */
    readonly running: pulumi.Output<RunningInstance | undefined>;
}

/** The stack's server as EC2 runs it now (found by its tags), or undefined before there is one. */
export function runningServer(context: ComponentContext): pulumi.Output<RunningInstance | undefined> {
    return runningInstanceNamed(context.tagsFor("instance").Name, { parent: context.parent });
}

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

/**
 * The server: its key pair, and an instance with IMDSv2 only, an encrypted gp3 root volume, automatic
 * recovery and protection from termination and replacement. Refuses to move a running server to the
 * other architecture ({@link architectureChangeProblem}).
 */
export function declareInstance(context: ComponentContext, settings: InstanceSettings): aws.ec2.Instance {
    const { name, tagsFor } = context;
    const parent = { parent: context.parent };
    const { instanceType, amiId } = settings;
    // The key's comment is no part of it: editing it must not make a new key pair.
    const keyPair = new aws.ec2.KeyPair(
        `${name}-key`,
        {
            publicKey: pulumi
                .output(settings.sshPublicKey)
                .apply((key) => checkerFor(context.parent)(undefined, () => keyPairMaterial(key))),
            tags: tagsFor("key"),
        },
        parent,
    );

    const checkedInstanceType = settings.running.apply((running) => {
        const problem = amiId === undefined ? architectureChangeProblem(running?.instanceType, instanceType) : undefined;
        if (problem !== undefined) {
            throw new pulumi.ResourceError(problem, context.parent);
        }
        return instanceType;
    });

    return new aws.ec2.Instance(
        `${name}-instance`,
        {
            ami: serverImageId(amiId, instanceType, parent),
            instanceType: checkedInstanceType,
            subnetId: settings.subnetId,
            keyName: keyPair.keyName,
            vpcSecurityGroupIds: settings.securityGroupIds,
            iamInstanceProfile: settings.instanceProfile,
            userData: settings.userData,
            metadataOptions: IMDSV2_ONLY,
            rootBlockDevice: {
                volumeType: "gp3",
                volumeSize: settings.rootVolumeSizeGiB,
                encrypted: true,
                deleteOnTermination: true,
                tags: { ...tagsFor("root"), [SNAPSHOT_TARGET_TAG]: settings.snapshotTarget },
            },
            maintenanceOptions: { autoRecovery: "default" },
            // The server holds the database: a terminate call by mistake is refused.
            disableApiTermination: true,
            tags: tagsFor("instance"),
        },
        // A newer Debian image must not replace a running server; replacing it is a deliberate act.
        // Nor a new key pair or user data: EC2 and cloud-init read them at the first boot only, and a
        // change would replace the server (keyName) or stop and start it (userData) for nothing.
        // Any replacement or destroy stops at `protect` until it is lifted (lift-protection.sh).
        { ...parent, protect: true, ignoreChanges: [...(amiId === undefined ? ["ami"] : []), "keyName", "userData"] },
    );
}
