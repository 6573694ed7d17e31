# shellcheck shell=bash
# Usage: webstack-ship-backups
#   Sends the backup bucket what it does not hold yet: every closed binary log, and every dump in
#   BACKUP_DIR, under s3://<bucket>/<prefix>/<timeline>/, where the timeline names this server's
#   database since it was made (a new server's logs start again at .000001). The open binary log is
#   closed first when it holds writes, so that what is written now leaves within the minute. With no
#   bucket set, it says so and sends nothing.
umask 077
[[ -f "$BACKUP_BUCKET_ENV_FILE" ]] || fail "$BACKUP_BUCKET_ENV_FILE is missing; apply the plan's backup-bucket step."
# shellcheck source=/dev/null
source "$BACKUP_BUCKET_ENV_FILE"
if [[ -z "${BACKUP_BUCKET:-}" ]]; then
  echo "no backup bucket is set in $BACKUP_BUCKET_ENV_FILE: the backups stay on this server"
  exit 0
fi
# The system's trust store, which Debian keeps current, rather than the CLI's own copy of it; and
# the server's own CLI settings, when it has any.
export AWS_CA_BUNDLE="$SYSTEM_CA_BUNDLE" AWS_CONFIG_FILE="$AWS_CLI_CONFIG_FILE"
timeline="$(cat "$BACKUP_STATE_DIR/timeline")"
destination="s3://$BACKUP_BUCKET/$BACKUP_PREFIX/$timeline"
shipped="$BACKUP_STATE_DIR/shipped"
touch "$shipped"

# The open log's name and position right after it was opened: a log that has not moved holds nothing new.
open_log="$(sql 'SHOW MASTER STATUS' | cut -f1,2)"
if [[ "$open_log" != "$(cat "$BACKUP_STATE_DIR/opened" 2>/dev/null || true)" ]]; then
  sql 'FLUSH BINARY LOGS'
  sql 'SHOW MASTER STATUS' | cut -f1,2 >"$BACKUP_STATE_DIR/opened"
fi

# ship FILE KEY: one object, then its key in the list of what the bucket holds.
ship() {
  aws s3 cp --only-show-errors --region "$AWS_REGION" "$1" "$destination/$2"
  echo "$2" >>"$shipped"
  echo "shipped $destination/$2"
}
mapfile -t closed_logs < <(sql 'SHOW BINARY LOGS' | cut -f1 | head -n -1)
for name in "${closed_logs[@]}"; do
  grep -qxF "binlogs/$name" "$shipped" || ship "$MARIADB_DATA_DIR/$name" "binlogs/$name"
done
while read -r dump; do
  [[ -n "$dump" ]] && { grep -qxF "dumps/$dump" "$shipped" || ship "$BACKUP_DIR/$dump" "dumps/$dump"; }
done < <(find "$BACKUP_DIR" -maxdepth 1 -name "$APP_DATABASE-*.sql.gz" -printf '%f\n' | sort)
date -u +%s >"$BACKUP_STATE_DIR/shipped-at"
