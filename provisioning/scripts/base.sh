# shellcheck shell=bash
# A firewall that lets in only the ports in FIREWALL_PORTS, logs that cannot fill the disk, and
# nginx's and the journal's out-of-memory scores (their units' drop-ins), set when they start.

read -ra open_ports <<<"$FIREWALL_PORTS"
wanted_rules() {
  local port
  for port in "${open_ports[@]}"; do
    echo "ufw allow $port/tcp"
  done
}
# `ufw show added` lists the rules as the commands that added them after one heading line, or "(None)".
added_rules="$(ufw show added | tail -n +2 | grep -vx '(None)' || true)"
if [[ "$added_rules" != "$(wanted_rules)" ]]; then
  # A fresh server has no rules to clear (a reset is a second or so of Python).
  if [[ -n "$added_rules" ]]; then
    ufw --force reset >/dev/null
  fi
  for port in "${open_ports[@]}"; do
    ufw allow "$port/tcp" >/dev/null
  done
  mark_changed
fi
if ! grep -qx 'DEFAULT_INPUT_POLICY="DROP"' /etc/default/ufw; then
  ufw default deny incoming >/dev/null
  mark_changed
fi
if ! grep -qx 'DEFAULT_OUTPUT_POLICY="ACCEPT"' /etc/default/ufw; then
  ufw default allow outgoing >/dev/null
  mark_changed
fi
if ! ufw status | grep -qx 'Status: active'; then
  ufw --force enable >/dev/null
  mark_changed
fi
ensure_service ufw
ensure_dir "$(dirname "$NGINX_UNIT_DROP_IN")" 755 root:root
changes_before_nginx_unit="$(change_count)"
put_unit "${NGINX_UNIT_DROP_IN#/etc/systemd/system/}" "$NGINX_UNIT_SETTINGS"
# A running nginx takes its new score now, without a restart that would refuse connections: the
# master gets it, and the workers a graceful reload forks inherit it.
if action_pending nginx-reload "$changes_before_nginx_unit" && systemctl is-active --quiet nginx; then
  choom -p "$(systemctl show -p MainPID --value nginx)" -n "$NGINX_OOM_SCORE_ADJUST" >/dev/null
  reload_nginx
  action_done nginx-reload
fi
ensure_service nginx

changes_before_journald="$(change_count)"
ensure_dir "$(dirname "$JOURNALD_CONFIG_FILE")" 755 root:root
put_content "$JOURNALD_CONFIG_FILE" 644 root:root "$JOURNALD_CONFIG"
ensure_dir "$(dirname "$JOURNALD_UNIT_DROP_IN")" 755 root:root
put_unit "${JOURNALD_UNIT_DROP_IN#/etc/systemd/system/}" "$JOURNALD_UNIT_SETTINGS"
if changed_since "$changes_before_journald"; then
  systemctl restart systemd-journald
fi

ensure_dir "$ACCESS_LOG_DIR" 755 root:adm
put_content "$ACCESS_LOG_ROTATION_FILE" 644 root:root "$ACCESS_LOG_ROTATION"
ensure_dir "$(dirname "$LOGROTATE_TIMER_DROP_IN")" 755 root:root
put_unit "${LOGROTATE_TIMER_DROP_IN#/etc/systemd/system/}" "$LOGROTATE_TIMER"
if wrote_file && systemctl is-active --quiet logrotate.timer; then
  systemctl restart logrotate.timer
fi
ensure_service logrotate.timer
