# shellcheck shell=bash
# A nightly database backup: the dump command, a systemd timer that runs it, and the restore command.
ensure_dir "$BACKUP_DIR" 700 root:root
put_content "$BACKUP_COMMAND" 755 root:root "$BACKUP_SCRIPT"
put_content "$RESTORE_COMMAND" 755 root:root "$RESTORE_SCRIPT"
put_unit "$BACKUP_UNIT" "$BACKUP_SERVICE"
put_unit "$BACKUP_TIMER" "$BACKUP_TIMER_UNIT"
ensure_service "$BACKUP_TIMER"
