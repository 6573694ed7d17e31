# shellcheck shell=bash
# The host as a security audit wants it (the audit tools and fail2ban came with the packages step):
# sshd hardened (validated with sshd -t before it reloads, so a mistake never locks
# the provisioner out), a login banner, unneeded kernel modules refused, kernel settings, stricter
# login.defs and file modes, no core dumps, idle shells logged out, accounting turned on; the
# instance metadata service, and with it the instance role's credentials, refused to all but root.
ensure_dir "$(dirname "$SSHD_HARDENING_FILE")" 755 root:root
put_sshd_config "$SSHD_HARDENING_FILE" "$SSHD_HARDENING"

# sshd's settings and the cron jobs are root's business alone.
ensure_mode 600 /etc/ssh/sshd_config
ensure_mode 700 /etc/cron.d /etc/cron.hourly /etc/cron.daily /etc/cron.weekly /etc/cron.monthly

ensure_dir "$(dirname "$CORE_DUMP_LIMITS_FILE")" 755 root:root
put_content "$CORE_DUMP_LIMITS_FILE" 644 root:root "$CORE_DUMP_LIMITS"
put_content "$SHELL_TIMEOUT_FILE" 644 root:root "$SHELL_TIMEOUT"

put_content /etc/issue 644 root:root "$LOGIN_BANNER"
put_content /etc/issue.net 644 root:root "$LOGIN_BANNER"

ensure_dir "$(dirname "$DISABLED_MODULES_FILE")" 755 root:root
put_content "$DISABLED_MODULES_FILE" 644 root:root "$DISABLED_MODULES"

changes_before_sysctl="$(change_count)"
put_content "$KERNEL_SETTINGS_FILE" 644 root:root "$KERNEL_SETTINGS"
if changed_since "$changes_before_sysctl" && ! sysctl -q -p "$KERNEL_SETTINGS_FILE" >/dev/null 2>&1; then
  if systemd-detect-virt --quiet --container; then
    echo "kernel settings: this container's kernel lets only the network ones change; a virtual machine applies them all"
  else
    sysctl -q -p "$KERNEL_SETTINGS_FILE" >/dev/null || fail "the kernel refused settings in $KERNEL_SETTINGS_FILE (above)."
  fi
fi

while read -r key value; do
  set_setting /etc/login.defs "$key" " " "$value"
done <<<"$LOGIN_DEFS"

set_setting /etc/default/debsums CRON_CHECK "=" weekly
set_setting /etc/default/sysstat ENABLED "=" '"true"'
ensure_service sysstat
# Process accounting needs a kernel of the server's own; a container (the sandbox) has none to give.
if systemd-detect-virt --quiet --container; then
  retire_service acct
else
  ensure_service acct
fi

ensure_dir "$(dirname "$METADATA_FIREWALL_FILE")" 755 root:root
changes_before_metadata_firewall="$(change_count)"
put_content "$METADATA_FIREWALL_FILE" 644 root:root "$METADATA_FIREWALL"
put_unit "$METADATA_FIREWALL_UNIT" "$METADATA_FIREWALL_SERVICE"
if changed_since "$changes_before_metadata_firewall" && systemctl is-active --quiet "$METADATA_FIREWALL_UNIT"; then
  systemctl restart "$METADATA_FIREWALL_UNIT"
fi
ensure_service "$METADATA_FIREWALL_UNIT"
