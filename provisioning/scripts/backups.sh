# shellcheck shell=bash
# Database backups: the nightly dump and its timer, the restore command, and the shipping of dumps
# and binary logs to the backup bucket every half minute, under this server's timeline (made once).
ensure_dir "$BACKUP_DIR" 700 root:root
ensure_dir "$BACKUP_STATE_DIR" 700 root:root
if [[ ! -s "$BACKUP_STATE_DIR/timeline" ]]; then
  printf '%s-%s\n' "$(date -u +%Y%m%dT%H%M%SZ)" "$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$BACKUP_STATE_DIR/timeline"
  mark_changed
fi
put_content "$BACKUP_COMMAND" 755 root:root "$BACKUP_SCRIPT"
put_content "$RESTORE_COMMAND" 755 root:root "$RESTORE_SCRIPT"
put_content "$SHIP_BACKUPS_COMMAND" 755 root:root "$SHIP_BACKUPS_SCRIPT"
put_unit "$BACKUP_UNIT" "$BACKUP_SERVICE"
put_unit "$BACKUP_TIMER" "$BACKUP_TIMER_UNIT"
put_unit "$SHIP_BACKUPS_UNIT" "$SHIP_BACKUPS_SERVICE"
put_unit "$SHIP_BACKUPS_TIMER" "$SHIP_BACKUPS_TIMER_UNIT"
ensure_service "$BACKUP_TIMER"
ensure_service "$SHIP_BACKUPS_TIMER"
