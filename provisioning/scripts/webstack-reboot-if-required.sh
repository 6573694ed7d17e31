# shellcheck shell=bash
# Usage: webstack-reboot-if-required
#   Reboots the server when an update asked for it (REBOOT_REQUIRED_FILE, which unattended-upgrades'
#   kernel hook writes), after a fresh backup: a dump, then everything the backup bucket lacks
#   shipped to it, through their own units. A backup that fails stops the reboot, and says so; the
#   reboot-pending metric keeps counting until one succeeds. Nothing happens when no update asked.
if [[ ! -e "$REBOOT_REQUIRED_FILE" ]]; then
  echo "no reboot required"
  exit 0
fi
echo "a reboot is required by: $(paste -sd ' ' "$REBOOT_REQUIRED_FILE.pkgs" 2>/dev/null || echo 'an update')"
systemctl start "$BACKUP_UNIT" || fail "the backup before the reboot failed, so the server does not reboot: see journalctl -u $BACKUP_UNIT"
systemctl start "$SHIP_BACKUPS_UNIT" || fail "shipping the backup before the reboot failed, so the server does not reboot: see journalctl -u $SHIP_BACKUPS_UNIT"
echo "backed up and shipped; rebooting"
systemctl reboot
