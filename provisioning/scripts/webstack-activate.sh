# shellcheck shell=bash
# Usage: webstack-activate [--check | --restart-all] RELEASE_ID
#   Makes RELEASE_ID the current release and restarts, one at a time, the instances that do not
#   serve it yet, each only after the one before runs from the release's directory and answers the
#   health path its release.json names (DEFAULT_HEALTH_PATH for a release that names none). A
#   stopping instance finishes its requests and refuses new connections, which nginx passes on to
#   another instance; nginx is not reloaded, since a reload closes its idle client connections and
#   a browser's request can meet one as it closes. nginx skips an instance that refused it for
#   UPSTREAM_FAIL_TIMEOUT_SECONDS, so after restarting an instance that was running the command waits
#   that long, until nginx sends the instance requests again: the next restart, or a crash right
#   after the command, never finds every instance skipped. (An instance that was not running, as on
#   the first deploy, stood no better with nginx before, so its start is not waited for.) An
#   instance that never gets ready is taken out of the upstream
#   (then nginx is reloaded) and stays out until it serves again.
#   --check: exits 0 when the release is current and every instance serves it; changes nothing.
#   --restart-all: restarts every instance, also those that serve the release already.
mode=activate
case "${1:-}" in
  --check | --restart-all)
    mode="${1#--}"
    shift
    ;;
esac
if [[ $# -ne 1 || -z "$1" ]]; then
  fail "usage: webstack-activate [--check | --restart-all] RELEASE_ID (the ids are the names in $RELEASES_DIR)"
fi
release_id="$1"
release_dir="$RELEASES_DIR/$release_id"
read -ra ports <<<"$APP_PORTS"

current_release() {
  local target
  if target="$(readlink "$CURRENT_LINK")"; then
    basename "$target"
  fi
}

health_path="$DEFAULT_HEALTH_PATH"
if [[ -f "$release_dir/release.json" ]]; then
  health_path="$(node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).healthPath || process.argv[2])' \
    "$release_dir/release.json" "$DEFAULT_HEALTH_PATH")"
fi

# instance_socket PORT: the unix socket where nginx reaches the instance on PORT.
instance_socket() {
  echo "$APP_SOCKET_DIR/$1.sock"
}

# serves PORT: the instance's process runs from the release's directory (it started after the
# switch) and answers the health path on its unix socket.
serves() {
  local port="$1" pid
  pid="$(systemctl show --property=MainPID --value "${APP_UNIT_TEMPLATE/@/@$port}")"
  [[ -n "$pid" && "$pid" != 0 && "$(readlink "/proc/$pid/cwd" 2>/dev/null)" == "$release_dir" ]] || return 1
  curl -fsS --max-time 2 -o /dev/null --unix-socket "$(instance_socket "$port")" "http://localhost$health_path" 2>/dev/null
}

if [[ "$mode" == check ]]; then
  [[ "$(current_release)" == "$release_id" ]] || exit 1
  for port in "${ports[@]}"; do
    serves "$port" || exit 1
  done
  exit 0
fi

[[ -d "$release_dir" ]] || fail "release $release_id is not in $RELEASES_DIR; deploy it first (the deploy step unpacks it)."

# switch_link LINK TARGET: rename(2) over the old link, so the link is never missing.
switch_link() {
  ln -sfn "$2" "$1.next"
  mv -T "$1.next" "$1"
}
previous_release="$(current_release)"
if [[ "$previous_release" != "$release_id" ]]; then
  if [[ -n "$previous_release" ]]; then
    switch_link "$PREVIOUS_LINK" "$RELEASES_DIR/$previous_release"
  fi
  switch_link "$CURRENT_LINK" "$release_dir"
  echo "current release: $release_id (previous: ${previous_release:-none})"
fi

# Requests already on their way to a drained instance finish in the nginx workers that the reload
# retired; wait for those workers to exit before the restart.
wait_for_retired_workers() {
  local deadline=$((SECONDS + DRAIN_TIMEOUT_SECONDS))
  while pgrep -f '^nginx: worker process is shutting down' >/dev/null && (( SECONDS < deadline )); do
    sleep 0.2
  done
}

# route_upstream [DRAINED_PORT]: the upstream with every instance, or with one marked down.
route_upstream() {
  local drained="${1:-}"
  if [[ -n "$drained" ]]; then
    put_file "$NGINX_UPSTREAM_FILE" 644 root:root < <(printf '%s' "$UPSTREAM_CONF" | sed "s|^\( *server unix:[^ ]*/$drained\.sock\) |\1 down |")
  else
    put_content "$NGINX_UPSTREAM_FILE" 644 root:root "$UPSTREAM_CONF"
  fi
  if wrote_file && systemctl is-active --quiet nginx; then
    reload_nginx
    wait_for_retired_workers
  fi
}

wait_until_serving() {
  local port="$1" deadline=$((SECONDS + READY_TIMEOUT_SECONDS))
  until serves "$port"; do
    (( SECONDS < deadline )) || return 1
    sleep 0.5
  done
}

for port in "${ports[@]}"; do
  unit="${APP_UNIT_TEMPLATE/@/@$port}"
  if [[ "$mode" == activate ]] && serves "$port"; then
    continue
  fi
  was_running=no
  if systemctl is-active --quiet "$unit"; then
    was_running=yes
  fi
  echo "restarting $unit for release $release_id"
  systemctl restart "$unit"
  if ! wait_until_serving "$port"; then
    # A single instance stays in: out of the upstream, nothing would answer at all.
    if (( ${#ports[@]} > 1 )); then
      route_upstream "$port"
    fi
    fail "$unit did not run release $release_id and answer $health_path with 200 on $(instance_socket "$port") within ${READY_TIMEOUT_SECONDS}s." \
      "It stays out of the nginx upstream; the other instances keep serving." \
      "See: journalctl -u $unit. Return to the previous release with: webstack-rollback"
  fi
  route_upstream
  # A single instance is never skipped (nginx ignores failures when there is no other).
  if (( ${#ports[@]} > 1 )) && [[ "$was_running" == yes ]]; then
    sleep "$UPSTREAM_FAIL_TIMEOUT_SECONDS"
  fi
done
echo "every instance serves release $release_id"
