# shellcheck shell=bash
# Where the backups leave the server for (webstack-ship-backups reads it on every run).
ensure_dir "$(dirname "$BACKUP_BUCKET_ENV_FILE")" 755 root:root
put_content "$BACKUP_BUCKET_ENV_FILE" 600 root:root "$BACKUP_BUCKET_SETTINGS"
