# shellcheck shell=bash
# Database backups: the nightly dump and its timer, the restore command, the shipping of dumps and
# binary logs to the backup bucket every half minute, the nightly restore that proves the bucket's
# copy, and the report of the backups' health to CloudWatch every minute. On a new server (no backup
# timeline yet), before the app takes traffic: the stack's data restored from the bucket, up to now,
# when it holds any; then the server's timeline starts with a dump.
ensure_dir "$BACKUP_DIR" 700 root:root
ensure_dir "$BACKUP_STATE_DIR" 700 root:root
put_content "$BACKUP_COMMAND" 755 root:root "$BACKUP_SCRIPT"
put_content "$RESTORE_COMMAND" 755 root:root "$RESTORE_SCRIPT"
put_content "$SHIP_BACKUPS_COMMAND" 755 root:root "$SHIP_BACKUPS_SCRIPT"
put_content "$REPORT_METRICS_COMMAND" 755 root:root "$REPORT_METRICS_SCRIPT"
put_unit "$BACKUP_UNIT" "$BACKUP_SERVICE"
put_unit "$BACKUP_TIMER" "$BACKUP_TIMER_UNIT"
put_unit "$SHIP_BACKUPS_UNIT" "$SHIP_BACKUPS_SERVICE"
put_unit "$SHIP_BACKUPS_TIMER" "$SHIP_BACKUPS_TIMER_UNIT"
put_unit "$VERIFY_BACKUPS_UNIT" "$VERIFY_BACKUPS_SERVICE"
put_unit "$VERIFY_BACKUPS_TIMER" "$VERIFY_BACKUPS_TIMER_UNIT"
put_unit "$REPORT_METRICS_UNIT" "$REPORT_METRICS_SERVICE"
put_unit "$REPORT_METRICS_TIMER" "$REPORT_METRICS_TIMER_UNIT"
if [[ ! -s "$BACKUP_STATE_DIR/timeline" ]]; then
  "$RESTORE_COMMAND" --recover
  mark_changed
fi
ensure_service "$BACKUP_TIMER"
ensure_service "$SHIP_BACKUPS_TIMER"
ensure_service "$VERIFY_BACKUPS_TIMER"
ensure_service "$REPORT_METRICS_TIMER"
