#!/usr/bin/env bash
# Usage: runner-ssh-access.sh open|close
#   Lets the GitHub-hosted runner of this workflow run reach the server's SSH port, and only while
#   the run needs it. `open` waits (up to WAIT_SECONDS, so that a new stack's first `pulumi up` can
#   create the group meanwhile) for the stack's deploy-access security group, removes any rule an
#   earlier run left behind (one run at a time works on a stack: they are stale), and allows this
#   runner's public IPv4 address on port 22, described as github-run-<RUN_ID>. `close` removes this
#   run's rule; run it with `if: always()` so that a failed or cancelled run closes too.
#   Environment: STACK (the Pulumi stack, org/ prefix allowed), GROUP_NAME (the group's Name tag),
#   RUN_ID (github.run_id), AWS_REGION; optional WAIT_SECONDS (default 900), POLL_SECONDS (10).
set -euo pipefail

action="${1:-}"
: "${STACK:?set STACK to the Pulumi stack}" "${GROUP_NAME:?set GROUP_NAME to the Name tag of the deploy-access group}" "${RUN_ID:?set RUN_ID to github.run_id}"
stack_name="${STACK##*/}"
description="github-run-$RUN_ID"

group_id() {
  aws ec2 describe-security-groups \
    --filters "Name=tag:Name,Values=$GROUP_NAME" "Name=tag:stack,Values=$stack_name" "Name=tag:project,Values=webstack" \
    --query 'SecurityGroups[0].GroupId' --output text
}

# rules_described GROUP PREFIX: the ids of the group's ingress rules whose description starts with PREFIX.
rules_described() {
  aws ec2 describe-security-group-rules --filters "Name=group-id,Values=$1" \
    --query "SecurityGroupRules[?!IsEgress && starts_with(Description || '', '$2')].SecurityGroupRuleId" --output text
}

revoke_rules() {
  local group="$1" prefix="$2" rules
  rules="$(rules_described "$group" "$prefix")"
  if [[ -n "$rules" && "$rules" != None ]]; then
    # shellcheck disable=SC2086 # one argument per rule id
    aws ec2 revoke-security-group-ingress --group-id "$group" --security-group-rule-ids $rules >/dev/null
    echo "removed SSH rule(s) $rules from $group"
  fi
}

case "$action" in
  open)
    address="$(curl -fsS --max-time 10 https://checkip.amazonaws.com | tr -d '[:space:]')"
    [[ "$address" =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}$ ]] || { echo "error: this runner's public IPv4 address is unknown (got '$address')" >&2; exit 1; }
    deadline=$((SECONDS + ${WAIT_SECONDS:-900}))
    until group="$(group_id)" && [[ -n "$group" && "$group" != None ]]; do
      if (( SECONDS >= deadline )); then
        echo "error: no security group named $GROUP_NAME for stack $stack_name appeared; SSH stays closed." >&2
        exit 1
      fi
      sleep "${POLL_SECONDS:-10}"
    done
    revoke_rules "$group" github-run-
    aws ec2 authorize-security-group-ingress --group-id "$group" \
      --ip-permissions "IpProtocol=tcp,FromPort=22,ToPort=22,IpRanges=[{CidrIp=$address/32,Description=$description}]" >/dev/null
    echo "SSH open to $address/32 in $group for run $RUN_ID"
    ;;
  close)
    group="$(group_id)"
    if [[ -n "$group" && "$group" != None ]]; then
      revoke_rules "$group" "$description"
    fi
    echo "SSH closed to run $RUN_ID"
    ;;
  *)
    echo "usage: runner-ssh-access.sh open|close" >&2
    exit 2
    ;;
esac
