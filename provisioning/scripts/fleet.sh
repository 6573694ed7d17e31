# shellcheck shell=bash
# A fleet's server: the shared database's CA bundle and credentials command, run before every app
# instance starts and every minute for a rotated password; nginx told which peers are the load
# balancer. The credentials are fetched once here, so that the deploy step's migrations have them.
ensure_dir "$(dirname "$DATABASE_CA_FILE")" 755 root:root
put_content "$DATABASE_CA_FILE" 644 root:root "$DATABASE_CA"
put_content "$DATABASE_CREDENTIALS_COMMAND" 700 root:root "$DATABASE_CREDENTIALS_SCRIPT"

ensure_dir "$(dirname "$APP_UNIT_FLEET_DROP_IN")" 755 root:root
put_unit "${APP_UNIT_FLEET_DROP_IN#/etc/systemd/system/}" "$APP_UNIT_FLEET_SETTINGS"
put_unit "$CREDENTIALS_REFRESH_UNIT" "$CREDENTIALS_REFRESH_SERVICE"
put_unit "$CREDENTIALS_REFRESH_TIMER" "$CREDENTIALS_REFRESH_TIMER_UNIT"

had_credentials="$(sha256sum "$APP_DATABASE_ENV_FILE" 2>/dev/null || true)"
"$DATABASE_CREDENTIALS_COMMAND"
if [[ "$(sha256sum "$APP_DATABASE_ENV_FILE")" != "$had_credentials" ]]; then
  mark_changed
fi
ensure_service "$CREDENTIALS_REFRESH_TIMER"

changes_before_load_balancer="$(change_count)"
put_content "$NGINX_LOAD_BALANCER_FILE" 644 root:root "$NGINX_LOAD_BALANCER"
if action_pending nginx-reload "$changes_before_load_balancer"; then
  reload_nginx
  action_done nginx-reload
fi
