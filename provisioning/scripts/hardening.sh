# shellcheck shell=bash
# The host as a security audit wants it: security updates pending since the image was built
# installed now, sshd hardened (validated with sshd -t before it reloads, so a mistake never locks
# the provisioner out), a login banner, unneeded kernel modules refused, kernel settings, stricter
# login.defs and file modes, no core dumps, idle shells logged out, and small audit and accounting
# tools.
# Lists from the last six hours are fresh enough to see pending updates; unattended-upgrades fetches daily.
refresh_package_lists 360
pending_security_updates() { apt-get -s -q upgrade 2>/dev/null | grep -c '^Inst .*-security' || true; }
pending_before="$(pending_security_updates)"
if (( pending_before > 0 )); then
  echo "installing $pending_before pending security update(s)"
  unattended-upgrade || echo "warning: unattended-upgrade failed (its log: /var/log/unattended-upgrades/)" >&2
  pending_after="$(pending_security_updates)"
  if (( pending_after < pending_before )); then
    mark_changed
  fi
  if (( pending_after > 0 )); then
    echo "warning: $pending_after security update(s) could not be installed unattended; see: apt-get -s upgrade" >&2
  fi
fi

# The jail and needrestart's settings go in first, so that the packages start with them; the tools
# come after the updates, so that no tool's apt hook takes part in them.
fail2ban_was_running=no
if systemctl is-active --quiet fail2ban; then
  fail2ban_was_running=yes
fi
changes_before_jail="$(change_count)"
ensure_dir "$(dirname "$FAIL2BAN_JAIL_FILE")" 755 root:root
put_content "$FAIL2BAN_JAIL_FILE" 644 root:root "$FAIL2BAN_JAIL"
jail_changed=no
if changed_since "$changes_before_jail"; then
  jail_changed=yes
fi
ensure_dir "$(dirname "$NEEDRESTART_CONFIG_FILE")" 755 root:root
put_content "$NEEDRESTART_CONFIG_FILE" 644 root:root "$NEEDRESTART_CONFIG"
read -ra tools <<<"$AUDIT_TOOLS"
ensure_packages "${tools[@]}"

ensure_dir "$(dirname "$SSHD_HARDENING_FILE")" 755 root:root
changes_before_sshd="$(change_count)"
put_content "$SSHD_HARDENING_FILE" 600 root:root "$SSHD_HARDENING"
if changed_since "$changes_before_sshd"; then
  if ! sshd -t; then
    rm -f "$SSHD_HARDENING_FILE"
    fail "sshd refused its hardened configuration (above); it was removed again and sshd keeps running as it was."
  fi
  systemctl reload ssh
fi

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
ensure_service fail2ban
# A fail2ban that ran before this step still has the old jail.
if [[ "$fail2ban_was_running" == yes && "$jail_changed" == yes ]]; then
  systemctl reload-or-restart fail2ban
fi
ensure_service sysstat
# Process accounting needs a kernel of the server's own; a container (the sandbox) has none to give.
if systemd-detect-virt --quiet --container; then
  retire_service acct
else
  ensure_service acct
fi
