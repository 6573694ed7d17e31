/**
 * When terraform-provider-aws (under @pulumi/aws) lets `pulumi up` go on after creating or updating an
 * Auto Scaling group, as internal/service/autoscaling/group.go has it (read at commit 00a919d1548e):
 * resourceGroupCreate waits for minimums, resourceGroupUpdate, after a change of min_size or
 * desired_capacity, for exact counts. A timeout of zero skips both waits.
 */

/** The group's arguments that the wait reads, as the program gives them. */
export interface CapacityWaitArgs {
    readonly minSize: number;
    readonly desiredCapacity?: number;
    readonly waitForElbCapacity?: number;
    readonly minElbCapacity?: number;
    readonly waitForCapacityTimeout?: string;
}

/** The group as AWS reports it while the provider polls. */
export interface GroupCount {
    /** Instances Healthy and InService in the group. */
    readonly inService: number;
    /** Of those, the ones the target group finds healthy. */
    readonly healthyTargets: number;
}

function waits(args: CapacityWaitArgs): boolean {
    return !/^0[a-z]*$/.test(args.waitForCapacityTimeout ?? "10m");
}

/** resourceGroupCreate: at least max(min_size, desired_capacity) in service, at least wait_for_elb_capacity (else min_elb_capacity) healthy targets. */
export function createWaitMet(args: CapacityWaitArgs, count: GroupCount): boolean {
    const minInService = (args.desiredCapacity ?? 0) > 0 ? (args.desiredCapacity ?? 0) : args.minSize;
    const minTargets = (args.waitForElbCapacity ?? 0) > 0 ? (args.waitForElbCapacity ?? 0) : (args.minElbCapacity ?? 0);
    return !waits(args) || (count.inService >= minInService && count.healthyTargets >= minTargets);
}

/**
 * resourceGroupUpdate after min_size changes: exactly max(min_size, desired_capacity) in service, where
 * desired_capacity is the configured one or, unset, the state's (`stateDesiredCapacity`); and exactly
 * wait_for_elb_capacity healthy targets when it is set. min_elb_capacity is not read.
 */
export function minSizeUpdateWaitMet(args: CapacityWaitArgs, stateDesiredCapacity: number, count: GroupCount): boolean {
    const exactInService = Math.max(args.minSize, args.desiredCapacity ?? stateDesiredCapacity);
    const exactTargets = args.waitForElbCapacity ?? 0;
    return !waits(args) || (count.inService === exactInService && (exactTargets === 0 || count.healthyTargets === exactTargets));
}
