# shellcheck shell=bash
# Reboots for updates: webstack-reboot-if-required and its unit installed; its timer on in the
# maintenance window (webstack:maintenanceWindow), or, without a window, off and gone.
put_content "$REBOOT_COMMAND" 755 root:root "$REBOOT_SCRIPT"
put_unit "$REBOOT_UNIT" "$REBOOT_SERVICE"
if [[ -n "$REBOOT_TIMER_UNIT" ]]; then
  put_unit "$REBOOT_TIMER" "$REBOOT_TIMER_UNIT"
  # A changed window takes effect now: the running timer keeps its old schedule until restarted.
  if wrote_file && systemctl is-active --quiet "$REBOOT_TIMER"; then
    systemctl restart "$REBOOT_TIMER"
  fi
  ensure_service "$REBOOT_TIMER"
elif [[ -e "/etc/systemd/system/$REBOOT_TIMER" ]]; then
  retire_service "$REBOOT_TIMER"
  rm -f "/etc/systemd/system/$REBOOT_TIMER"
  systemctl daemon-reload
  mark_changed
fi
