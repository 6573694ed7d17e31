# shellcheck shell=bash
# Usage: webstack-report-metrics
#   Sends CloudWatch, as the instance role, what the backups' alarms watch: the seconds since the
#   last verified restore and since the last complete shipping run (each counted from the start of
#   the server's backup timeline when there has been none yet), how full the root disk is, and the
#   seconds since an update asked for a reboot that has not happened (0 when none is pending). One
#   PutMetricData call under METRICS_NAMESPACE, with the server's backup prefix as its dimension.
#   With no backup bucket set, the server has no role to report with: nothing is sent.
[[ -f "$BACKUP_BUCKET_ENV_FILE" ]] || fail "$BACKUP_BUCKET_ENV_FILE is missing; apply the plan's backup-bucket step."
# shellcheck source=/dev/null
source "$BACKUP_BUCKET_ENV_FILE"
if [[ -z "${BACKUP_BUCKET:-}" ]]; then
  echo "no backup bucket is set in $BACKUP_BUCKET_ENV_FILE: nothing is reported"
  exit 0
fi
[[ -s "$BACKUP_STATE_DIR/timeline" ]] || fail "this server has no backup timeline yet; apply the plan's backups step."
export AWS_CA_BUNDLE="$SYSTEM_CA_BUNDLE" AWS_CONFIG_FILE="$AWS_CLI_CONFIG_FILE"
now="$(date -u +%s)"

# seconds_since STATE_FILE: now minus the epoch in the file, or minus the timeline's start when it has none.
seconds_since() {
  local since
  since="$(cat "$BACKUP_STATE_DIR/$1" 2>/dev/null || stat -c %Y "$BACKUP_STATE_DIR/timeline")"
  echo $((now - since))
}

# metric NAME VALUE UNIT: one datum of the call, as JSON.
metric() {
  printf '{"MetricName":"%s","Dimensions":[{"Name":"%s","Value":"%s"}],"Value":%s,"Unit":"%s"}' \
    "$1" "$METRICS_DIMENSION" "$BACKUP_PREFIX" "$2" "$3"
}

verified="$(seconds_since verified-at)"
shipped="$(seconds_since shipped-at)"
disk="$(df --output=pcent / | tail -n 1 | tr -dc '0-9')"
reboot_pending=0
if [[ -e "$REBOOT_REQUIRED_FILE" ]]; then
  reboot_pending=$((now - $(stat -c %Y "$REBOOT_REQUIRED_FILE")))
fi
aws cloudwatch put-metric-data --region "$AWS_REGION" --namespace "$METRICS_NAMESPACE" --metric-data \
  "[$(metric "$SECONDS_SINCE_VERIFIED_RESTORE" "$verified" Seconds),$(metric "$SECONDS_SINCE_BACKUPS_SHIPPED" "$shipped" Seconds),$(metric "$ROOT_DISK_USED_PERCENT" "$disk" Percent),$(metric "$SECONDS_REBOOT_PENDING" "$reboot_pending" Seconds)]"
echo "reported to CloudWatch ($METRICS_NAMESPACE, $METRICS_DIMENSION=$BACKUP_PREFIX): ${verified}s since the last verified restore, ${shipped}s since the backups were last shipped, root disk ${disk}% used, ${reboot_pending}s since a reboot was asked for"
