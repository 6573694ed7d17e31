# shellcheck shell=bash
# nginx's main file, the site and the app's upstream. The TLS form of the site (SITE_TLS) is used once its
# certificate exists, so that the first run serves HTTP (and the ACME challenge) before certbot has
# run; REQUIRE_CERTIFICATE=yes makes a missing certificate an error. nginx reloads only on a change.
changes_before="$(change_count)"
put_content "$NGINX_CONF_FILE" 644 root:root "$NGINX_CONF"
ensure_dir "$ACME_WEBROOT" 755 root:root
ensure_dir "$(dirname "$NGINX_UPSTREAM_FILE")" 755 root:root
put_content "$NGINX_UPSTREAM_FILE" 644 root:root "$UPSTREAM_CONF"
ensure_dir "$NGINX_API_CACHE_DIR" 700 www-data:www-data

site="$SITE_HTTP"
if [[ -n "$SITE_TLS" && -f "$CERTIFICATE" ]]; then
  site="$SITE_TLS"
elif [[ "$REQUIRE_CERTIFICATE" == yes ]]; then
  fail "the certificate $CERTIFICATE does not exist, so the HTTPS site cannot be enabled; the certbot step obtains it (see its output)."
fi
put_content "$NGINX_SITE_FILE" 644 root:root "$site"
if [[ -e "$NGINX_DEFAULT_SITE" || -L "$NGINX_DEFAULT_SITE" ]]; then
  rm -f "$NGINX_DEFAULT_SITE"
  mark_changed
fi

ensure_service nginx
if action_pending nginx-reload "$changes_before"; then
  reload_nginx
  action_done nginx-reload
fi
