#!/usr/bin/env bash
# Usage: STACK=<stack> lift-protection.sh
# Run by the Destroy workflow after its confirmation, right before `pulumi destroy`: lifts what keeps
# the stack's stateful resources from being deleted by mistake, so that a confirmed destroy can.
#   - Pulumi's protect flag, on every resource of the stack;
#   - EC2's termination protection of the single topology's instance (output instanceId);
#   - RDS's deletion protection of the ha topology's database (output databaseIdentifier).
# Idempotent: a second run finds nothing left to lift. Needs PULUMI_ACCESS_TOKEN and AWS credentials.
set -euo pipefail
: "${STACK:?set STACK to the stack to destroy}"

pulumi state unprotect --all --yes --stack "$STACK"

# output NAME: the stack output NAME, or nothing when this topology has no such output.
output() { pulumi stack output "$1" --stack "$STACK" 2>/dev/null || true; }

instance_id="$(output instanceId)"
if [[ -n "$instance_id" ]]; then
  aws ec2 modify-instance-attribute --instance-id "$instance_id" --no-disable-api-termination
  echo "termination protection lifted from $instance_id"
fi

database="$(output databaseIdentifier)"
if [[ -n "$database" ]]; then
  aws rds modify-db-instance --db-instance-identifier "$database" --no-deletion-protection --apply-immediately >/dev/null
  echo "deletion protection lifted from $database (RDS still takes its final snapshot)"
fi
