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
#   the first deploy, stood no better with nginx before, so its start is not waited for.)
#   nginx serves the release's static files once its first instance answers (SERVING_LINK).
#   An instance that never gets ready fails the command with the health check's last answer and the
#   end of the instance's journal. When the command had moved `current` from a release that was
#   serving, it first returns to that release: `current` and `previous` point where they did, and
#   the instances restarted on the failed release are restarted on it, so that no instance runs the
#   failed release, now or after a later restart. With nothing to return to (a first deploy, or a
#   restart of the current release), the instance is taken out of the upstream (then nginx is
#   reloaded) and stays out until it serves again.
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
read -ra ports <<<"$APP_PORTS"

current_release() {
  local target
  if target="$(readlink "$CURRENT_LINK")"; then
    basename "$target"
  fi
}

# use_release ID: the release that serves, serving_everywhere and roll_out work on, and its health path.
use_release() {
  release_id="$1"
  release_dir="$RELEASES_DIR/$release_id"
  health_path="$DEFAULT_HEALTH_PATH"
  if [[ -f "$release_dir/release.json" ]]; then
    health_path="$(node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).healthPath || process.argv[2])' \
      "$release_dir/release.json" "$DEFAULT_HEALTH_PATH")"
  fi
}
use_release "$1"

instance_unit() {
  echo "${APP_UNIT_TEMPLATE/@/@$1}"
}

# instance_socket PORT: the unix socket where nginx reaches the instance on PORT.
instance_socket() {
  echo "$APP_SOCKET_DIR/$1.sock"
}

# serves PORT: the instance's process runs from the release's directory (it started after the
# switch) and answers the health path on its unix socket. When it does not, last_answer says what
# the check saw, for the failure's message.
last_answer=""
serves() {
  local port="$1" pid cwd answer code status=0
  pid="$(systemctl show --property=MainPID --value "$(instance_unit "$port")")"
  cwd="$(readlink "/proc/$pid/cwd" 2>/dev/null || true)"
  # A process still in / is one systemd has forked and not yet moved into its WorkingDirectory.
  if [[ -z "$cwd" || "$cwd" == / ]]; then
    last_answer="no process: the instance is not running (it exited, or systemd is starting it again)"
    return 1
  fi
  if [[ "$cwd" != "$release_dir" ]]; then
    last_answer="its process $pid runs from $cwd, not from $release_dir"
    return 1
  fi
  answer="$(curl -sS --max-time 2 --unix-socket "$(instance_socket "$port")" -w '\n%{http_code}' "http://localhost$health_path" 2>&1)" || status=$?
  code="${answer##*$'\n'}"
  if (( status == 0 )) && [[ "$code" == 200 ]]; then
    return 0
  fi
  if (( status != 0 )); then
    last_answer="no answer: $(head -n 1 <<<"$answer")"
  else
    # $(...) drops the body's trailing newlines.
    answer="$(printf '%s' "${answer%$'\n'*}")"
    answer="${answer//$'\n'/ }"
    last_answer="HTTP $code: ${answer:0:300}"
  fi
  return 1
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
serving_release="$(current_release)"
previous_target="$(readlink "$PREVIOUS_LINK" || true)"
if [[ "$serving_release" != "$release_id" ]]; then
  if [[ -n "$serving_release" ]]; then
    switch_link "$PREVIOUS_LINK" "$RELEASES_DIR/$serving_release"
  fi
  switch_link "$CURRENT_LINK" "$release_dir"
  echo "current release: $release_id (previous: ${serving_release:-none})"
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

# serve_static_files: nginx serves the release's public/ (SERVING_LINK), once an instance of it answers.
serve_static_files() {
  if [[ "$(readlink "$SERVING_LINK" || true)" != "$release_dir" ]]; then
    switch_link "$SERVING_LINK" "$release_dir"
  fi
}

# restarts_of UNIT: how many times systemd has started the unit's process again by itself (Restart=).
restarts_of() {
  systemctl show --property=NRestarts --value "$1"
}

# wait_until_serving PORT: until the instance serves, for READY_TIMEOUT_SECONDS at most, or until
# systemd has had to start it again CRASH_LOOP_RESTARTS times: a release that crashes as it starts
# will not get ready by waiting, and gave_up says which it was.
gave_up=""
wait_until_serving() {
  local port="$1" deadline=$((SECONDS + READY_TIMEOUT_SECONDS)) unit restarts_before
  unit="$(instance_unit "$port")"
  restarts_before="$(restarts_of "$unit")"
  until serves "$port"; do
    if (( $(restarts_of "$unit") - restarts_before >= CRASH_LOOP_RESTARTS )); then
      gave_up="it exited as it started, $CRASH_LOOP_RESTARTS times in a row"
      return 1
    fi
    if (( SECONDS >= deadline )); then
      gave_up="not within ${READY_TIMEOUT_SECONDS}s"
      return 1
    fi
    sleep 0.5
  done
}

# roll_out: restarts, one at a time, the instances that do not serve the release (with
# --restart-all, every one); at the first that does not get ready it stops, failed_port naming it.
roll_out() {
  local port unit was_running
  for port in "${ports[@]}"; do
    unit="$(instance_unit "$port")"
    if [[ "$mode" == activate ]] && serves "$port"; then
      continue
    fi
    was_running=no
    if systemctl is-active --quiet "$unit"; then
      was_running=yes
    fi
    echo "restarting $unit for release $release_id"
    failed_port="$port"
    if ! systemctl restart "$unit"; then
      last_answer="systemctl restart $unit failed"
      return 1
    fi
    wait_until_serving "$port" || return 1
    serve_static_files
    route_upstream
    # A single instance is never skipped (nginx ignores failures when there is no other).
    if (( ${#ports[@]} > 1 )) && [[ "$was_running" == yes ]]; then
      sleep "$UPSTREAM_FAIL_TIMEOUT_SECONDS"
    fi
  done
}

# fail_after_rollout: fails with why the instance on failed_port did not get ready, after returning
# to the release that was serving, if the command had moved from one.
fail_after_rollout() {
  local failed_unit failure journal failed_release="$release_id" outcome
  failed_unit="$(instance_unit "$failed_port")"
  failure="$failed_unit did not run release $release_id and answer $health_path with 200 on $(instance_socket "$failed_port"): ${gave_up:-it did not start}; the health check's last answer: $last_answer."
  # The app's own last lines (what it printed as it failed), without systemd's about the unit.
  journal="The end of its output (journalctl -u $failed_unit):"$'\n'"$(journalctl "_SYSTEMD_UNIT=$failed_unit" --lines 15 --no-pager --output short-iso 2>&1 || true)"
  if [[ -z "$serving_release" || "$serving_release" == "$release_id" ]]; then
    # A single instance stays in: out of the upstream, nothing would answer at all.
    if (( ${#ports[@]} > 1 )); then
      route_upstream "$failed_port"
    fi
    fail "$failure It stays out of the nginx upstream; the other instances keep serving."$'\n'"$journal"
  fi
  echo "returning to release $serving_release, which was serving before $failed_release"
  switch_link "$CURRENT_LINK" "$RELEASES_DIR/$serving_release"
  if [[ -n "$previous_target" ]]; then
    switch_link "$PREVIOUS_LINK" "$previous_target"
  else
    rm -f "$PREVIOUS_LINK"
  fi
  use_release "$serving_release"
  mode=activate
  outcome="Returned to release $serving_release: current points at it again and every instance serves it; release $failed_release is not deployed."
  if ! roll_out; then
    outcome="Returning to release $serving_release failed too: $(instance_unit "$failed_port") did not serve it; its health check's last answer: $last_answer. Find the cause in the journals (journalctl -u '${APP_UNIT_TEMPLATE/@/@*}') and activate a release that serves."
  fi
  fail "$failure $outcome"$'\n'"$journal"
}

if ! roll_out; then
  fail_after_rollout
fi
serve_static_files
echo "every instance serves release $release_id"
