# shellcheck shell=bash
# The app's user, release tree, commands and systemd units: an instance per port in APP_PORTS,
# enabled at boot and running once a release is current; instances on RETIRED_PORTS stopped.
ensure_system_user "$APP_USER"
ensure_dir "$APP_ROOT" 755 root:root
ensure_dir "$RELEASES_DIR" 755 root:root
put_content "$ACTIVATE_COMMAND" 755 root:root "$ACTIVATE_SCRIPT"
put_content "$ROLLBACK_COMMAND" 755 root:root "$ROLLBACK_SCRIPT"
put_unit "$APP_UNIT_TEMPLATE" "$APP_UNIT"
unit_rewritten=no
if wrote_file; then
  unit_rewritten=yes
fi

read -ra ports <<<"$APP_PORTS"
for port in "${ports[@]}"; do
  if [[ -e "$CURRENT_LINK" ]]; then
    ensure_service "webstack-app@$port.service"
  else
    ensure_enabled "webstack-app@$port.service"
  fi
done
read -ra unwanted_ports <<<"$RETIRED_PORTS"
for port in "${unwanted_ports[@]}"; do
  retire_service "webstack-app@$port.service"
done

# Running instances still have the old unit's settings: restart them one at a time.
if [[ "$unit_rewritten" == yes ]] && [[ -e "$CURRENT_LINK" ]]; then
  "$ACTIVATE_COMMAND" --restart-all "$(basename "$(readlink "$CURRENT_LINK")")"
fi
