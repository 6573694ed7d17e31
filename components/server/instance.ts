import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { publicKeyMaterial } from "../../provisioning/formats";
import { architectureOf, IMDSV2_ONLY, serverImageId } from "../ec2";
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
    /** The value of the root volume's snapshot tag ({@link SNAPSHOT_TARGET_TAG}). */
    readonly snapshotTarget: string;
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
        { publicKey: pulumi.output(settings.sshPublicKey).apply(publicKeyMaterial), tags: tagsFor("key") },
        parent,
    );

    // The type the running server has, when there is one: it must keep its architecture (the image does).
    const runningType = aws.ec2
        .getInstancesOutput(
            {
                instanceTags: { Name: tagsFor("instance").Name, stack: pulumi.getStack() },
                instanceStateNames: ["pending", "running", "stopping", "stopped"],
            },
            parent,
        )
        .apply((found) =>
            found.ids.length === 0
                ? pulumi.output(undefined)
                : aws.ec2.getInstanceOutput({ instanceId: found.ids[0] }, parent).instanceType,
        );
    const checkedInstanceType = runningType.apply((running) => {
        const problem = amiId === undefined ? architectureChangeProblem(running, instanceType) : undefined;
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
        // Nor a new key pair: EC2 reads it at the first boot only, and keyName forces a new instance.
        // Any replacement or destroy stops at `protect` until it is lifted (lift-protection.sh).
        { ...parent, protect: true, ignoreChanges: [...(amiId === undefined ? ["ami"] : []), "keyName"] },
    );
}
