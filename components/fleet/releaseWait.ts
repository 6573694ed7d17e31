import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as command from "@pulumi/command";
import type { ComponentContext } from "../context";
import { FIRST_BOOT_GRACE_SECONDS, REFRESH_MAX_HEALTHY_PERCENT, REFRESH_WARMUP_SECONDS } from "./appServers";

/*
 * terraform-provider-aws starts a group's instance refresh and returns (resourceGroupUpdate calls
 * startInstanceRefresh, which waits only for an earlier refresh to be cancelled; nothing waits for
 * the new one's outcome), so `pulumi up` reports a release as done while its first server boots.
 * The wait below follows the refresh to its end and fails `up` when it does not succeed.
 */

/** How often the wait asks Auto Scaling about the refresh. */
export const RELEASE_POLL_SECONDS = 15;

/**
 * The longest a rolling refresh of up to `max` servers takes when each new server needs its whole
 * first-boot grace and warm-up: the refresh replaces as many at once as the group's maximum healthy
 * percentage leaves room for (at least one).
 */
export function releaseWaitSeconds(bounds: { readonly max: number }): number {
    const atOnce = Math.max(1, Math.floor((bounds.max * (REFRESH_MAX_HEALTHY_PERCENT - 100)) / 100));
    return Math.ceil(bounds.max / atOnce) * (FIRST_BOOT_GRACE_SECONDS + REFRESH_WARMUP_SECONDS);
}

/**
 * A bash script that waits for the group's latest instance refresh: exit 0 once it succeeded (or when
 * the group never had one: a new group, whose creation waited for its servers), 1 with the reason when
 * it failed, was cancelled or rolled back, and 1 when it still runs after `timeoutSeconds`.
 */
export function renderReleaseWait(target: { group: string; region: string; timeoutSeconds: number; pollSeconds: number }): string {
    return `set -euo pipefail
group=${JSON.stringify(target.group)}
deadline=$((SECONDS + ${target.timeoutSeconds}))
while :; do
  latest=$(aws autoscaling describe-instance-refreshes --region ${JSON.stringify(target.region)} \\
    --auto-scaling-group-name "$group" --max-records 1 \\
    --query 'InstanceRefreshes[0].[Status, StatusReason]' --output text)
  read -r status reason <<<"$latest" || true
  case "\${status:-None}" in
    Successful | None) echo "The release is live on every server of $group."; exit 0 ;;
    Failed | Cancelled | RollbackSuccessful | RollbackFailed)
      echo "The release did not go live on $group: its instance refresh ended $status (\${reason:-no reason given}). The group keeps the new launch template version: fix forward, or roll back (docs/fleet-rollback.md)." >&2
      exit 1 ;;
  esac
  if ((SECONDS >= deadline)); then
    echo "The release is not live on $group after ${target.timeoutSeconds} s: its instance refresh is still $status. Watch it with: aws autoscaling describe-instance-refreshes --auto-scaling-group-name $group" >&2
    exit 1
  fi
  sleep ${target.pollSeconds}
done
`;
}

/**
 * Makes `pulumi up` wait for each release to go live on the whole group, within
 * {@link releaseWaitSeconds}: a command on the machine that runs Pulumi (it needs the AWS CLI and
 * the same credentials), run again for every new launch template version.
 */
export function declareReleaseWait(
    context: ComponentContext,
    targets: { group: aws.autoscaling.Group; region: pulumi.Input<string>; bounds: { readonly max: number } },
): command.local.Command {
    const script = pulumi
        .all([targets.group.name, targets.region])
        .apply(([group, region]) =>
            renderReleaseWait({ group, region, timeoutSeconds: releaseWaitSeconds(targets.bounds), pollSeconds: RELEASE_POLL_SECONDS }),
        );
    return new command.local.Command(
        `${context.name}-release-live`,
        // A new launch template version is a new release, which the provider starts a refresh for.
        {
            create: script,
            interpreter: ["/bin/bash", "-c"],
            triggers: [targets.group.launchTemplate.apply((template) => template.version)],
        },
        { parent: context.parent, dependsOn: [targets.group] },
    );
}
