import * as aws from "@pulumi/aws";
import { serviceAssumeRolePolicy } from "../ec2";
import type { ComponentContext } from "../context";
import type { IntegerBounds } from "../../provisioning/settingChecks";

/** AWS's managed policy that lets Data Lifecycle Manager create and delete EBS snapshots. */
export const DLM_SERVICE_POLICY_ARN = "arn:aws:iam::aws:policy/service-role/AWSDataLifecycleManagerServiceRole";

/** How many daily snapshots a server keeps unless told otherwise: a week. */
export const DEFAULT_DAILY_SNAPSHOTS = 7;

/** Data Lifecycle Manager keeps at most this many snapshots per schedule. */
export const MAX_DAILY_SNAPSHOTS = 1000;

/** How many daily snapshots a server may keep; 0 turns them off. */
export const DAILY_SNAPSHOT_BOUNDS: IntegerBounds = { min: 0, max: MAX_DAILY_SNAPSHOTS, example: DEFAULT_DAILY_SNAPSHOTS };

/** The tag that marks the volumes a snapshot policy covers. */
export const SNAPSHOT_TARGET_TAG = "webstack-snapshots";

/**
 * The schedule's name, the same for every count: DLM manages the snapshots a schedule made by its
 * name, so a renamed schedule would leave the old one's snapshots behind, never deleted.
 */
export const SNAPSHOT_SCHEDULE_NAME = "daily";

/** A daily snapshot at 03:00 UTC of every volume carrying the target tag, the newest `count` (within {@link DAILY_SNAPSHOT_BOUNDS}, not 0) kept. */
export function snapshotPolicyDetails(targetTagValue: string, count: number): aws.types.input.dlm.LifecyclePolicyPolicyDetails {
    return {
        resourceTypes: ["VOLUME"],
        targetTags: { [SNAPSHOT_TARGET_TAG]: targetTagValue },
        schedules: [
            {
                name: SNAPSHOT_SCHEDULE_NAME,
                createRule: { interval: 24, intervalUnit: "HOURS", times: "03:00" },
                retainRule: { count },
                copyTags: true,
            },
        ],
    };
}

/** What Data Lifecycle Manager takes in a policy's description and a schedule's name (its API's pattern). */
export const DLM_TEXT = /^[0-9A-Za-z _-]{1,120}$/;

/** The snapshot policy's description: the component's name with anything DLM refuses made a dash. */
export function snapshotPolicyDescription(componentName: string): string {
    return `webstack ${componentName.replace(/[^0-9A-Za-z _-]/g, "-")} daily root volume snapshots`.slice(0, 120);
}

/** Data Lifecycle Manager's policy of daily snapshots, through a role only it can assume, created once that role may act. */
export function declareSnapshots(context: ComponentContext, policyDetails: aws.types.input.dlm.LifecyclePolicyPolicyDetails): void {
    const { name, tagsFor } = context;
    const parent = { parent: context.parent };
    const snapshotRole = new aws.iam.Role(
        `${name}-snapshots-role`,
        { assumeRolePolicy: serviceAssumeRolePolicy("dlm.amazonaws.com"), tags: tagsFor("snapshots-role") },
        parent,
    );
    const snapshotPermissions = new aws.iam.RolePolicyAttachment(
        `${name}-snapshots-policy`,
        { role: snapshotRole.name, policyArn: DLM_SERVICE_POLICY_ARN },
        parent,
    );
    new aws.dlm.LifecyclePolicy(
        `${name}-snapshots`,
        {
            description: snapshotPolicyDescription(name),
            executionRoleArn: snapshotRole.arn,
            state: "ENABLED",
            policyDetails,
            tags: tagsFor("snapshots"),
        },
        // DLM checks the role's permissions when the policy is created.
        { ...parent, dependsOn: [snapshotPermissions] },
    );
}
