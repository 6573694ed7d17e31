# shellcheck shell=bash
# Usage: webstack-backup
#   Dumps the app's database, consistently and without locking the tables, into a gzip file in
#   BACKUP_DIR, and keeps the newest BACKUPS_KEPT of them. The dump names the binary log position it
#   was taken at (a CHANGE MASTER comment), where a restore to a later second starts replaying.
umask 077
target="$BACKUP_DIR/$APP_DATABASE-$(date -u +%Y%m%dT%H%M%SZ).sql.gz"
trap 'rm -f "$target.partial"' EXIT
mariadb-dump --single-transaction --master-data=2 --routines --triggers "$APP_DATABASE" | gzip -9 >"$target.partial"
mv "$target.partial" "$target"
find "$BACKUP_DIR" -maxdepth 1 -name "$APP_DATABASE-*.sql.gz" | sort -r | tail -n +$((BACKUPS_KEPT + 1)) | xargs -r rm -f --
echo "backup written: $target"
