# shellcheck shell=bash
# The app's user, release tree, commands and systemd units: an instance per port in APP_PORTS,
# enabled at boot and running once a release is current; instances on RETIRED_PORTS stopped.
ensure_system_user "$APP_USER"
ensure_dir "$APP_ROOT" 755 root:root
ensure_dir "$RELEASES_DIR" 755 root:root
# A server deployed before nginx served the static files through SERVING_LINK: the current release's.
if [[ -L "$CURRENT_LINK" && ! -L "$SERVING_LINK" ]]; then
  ln -sfn "$(readlink "$CURRENT_LINK")" "$SERVING_LINK"
  mark_changed
fi
put_content "$ACTIVATE_COMMAND" 755 root:root "$ACTIVATE_SCRIPT"
put_content "$ROLLBACK_COMMAND" 755 root:root "$ROLLBACK_SCRIPT"
changes_before_instance_files="$(change_count)"
ensure_dir "$(dirname "$WATCHDOG_PRELOAD")" 755 root:root
put_content "$WATCHDOG_PRELOAD" 644 root:root "$WATCHDOG_PRELOAD_SCRIPT"
put_content "$UNIX_SOCKET_PRELOAD" 644 root:root "$UNIX_SOCKET_PRELOAD_SCRIPT"
put_unit "$APP_UNIT_TEMPLATE" "$APP_UNIT"
instance_files_changed=no
if changed_since "$changes_before_instance_files"; then
  instance_files_changed=yes
fi

read -ra ports <<<"$APP_PORTS"
# An instance's unit is the template with its port: webstack-app@.service -> webstack-app@3001.service.
for port in "${ports[@]}"; do
  if [[ -e "$CURRENT_LINK" ]]; then
    ensure_service "${APP_UNIT_TEMPLATE/@/@$port}"
  else
    ensure_enabled "${APP_UNIT_TEMPLATE/@/@$port}"
  fi
done
read -ra unwanted_ports <<<"$RETIRED_PORTS"
for port in "${unwanted_ports[@]}"; do
  retire_service "${APP_UNIT_TEMPLATE/@/@$port}"
done

# Running instances still have the old unit's settings or preload: restart them one at a time.
if [[ "$instance_files_changed" == yes ]] && [[ -e "$CURRENT_LINK" ]]; then
  "$ACTIVATE_COMMAND" --restart-all "$(basename "$(readlink "$CURRENT_LINK")")"
fi
