# shellcheck shell=bash
# Usage: webstack-ship-backups [--new-timeline]
#   Sends the backup bucket what it does not hold yet: every closed binary log of this server's
#   timeline, and every dump in BACKUP_DIR, under s3://<bucket>/<prefix>/<timeline>/. A timeline is
#   one unbroken history of the database, from a dump through the binary logs after it: a new
#   server, or a restore, starts a new one. The open binary log is closed first when it holds writes,
#   so that what is written now leaves within the minute. With no bucket set, nothing is sent.
#   --new-timeline: after shipping what the old timeline has, start a new one (from the next binary
#   log) and take and ship its first dump, from which a restore can replay it.
umask 077
# One at a time: the timer's run and a restore's new timeline must not interleave.
exec 9>>"$BACKUP_STATE_DIR/lock"
flock 9
[[ -f "$BACKUP_BUCKET_ENV_FILE" ]] || fail "$BACKUP_BUCKET_ENV_FILE is missing; apply the plan's backup-bucket step."
# shellcheck source=/dev/null
source "$BACKUP_BUCKET_ENV_FILE"
# The system's trust store, which Debian keeps current, rather than the CLI's own copy of it; and
# the server's own CLI settings, when it has any.
export AWS_CA_BUNDLE="$SYSTEM_CA_BUNDLE" AWS_CONFIG_FILE="$AWS_CLI_CONFIG_FILE"
shipped="$BACKUP_STATE_DIR/shipped"

# ship FILE KEY: one object of the current timeline, then its key in the list of what the bucket
# holds. Its failures return rather than exit (ship_all may run where errexit is off).
ship() {
  aws s3 cp --only-show-errors --region "$AWS_REGION" "$1" "s3://$BACKUP_BUCKET/$BACKUP_PREFIX/$timeline/$2" || return 1
  shipped_as "$2"
}
shipped_as() {
  echo "$1" >>"$shipped"
  echo "shipped $BACKUP_PREFIX/$timeline/$1"
}

# ship_log FILE KEY: a binary log, which never replaces one the bucket holds (If-None-Match). The
# bucket holding another log of that name means this disk went back in time (a snapshot, an old
# copy) while its timeline went on elsewhere: it returns 2, and this disk's history goes on in a new
# timeline. The same bytes are an upload whose answer was lost: shipped.
ship_log() {
  local key="$BACKUP_PREFIX/$timeline/$2" answer theirs
  if answer="$(aws s3api put-object --region "$AWS_REGION" --bucket "$BACKUP_BUCKET" --key "$key" --body "$1" --if-none-match '*' 2>&1 >/dev/null)"; then
    shipped_as "$2"
    return 0
  fi
  if ! grep -q PreconditionFailed <<<"$answer"; then
    echo "$answer" >&2
    return 1
  fi
  theirs="$(aws s3api head-object --region "$AWS_REGION" --bucket "$BACKUP_BUCKET" --key "$key" --query ETag --output text)" || return 1
  if [[ "$theirs" == "\"$(md5sum "$1" | cut -d' ' -f1)\"" ]]; then
    shipped_as "$2"
    return 0
  fi
  echo "the bucket holds another $key: this disk went back in time, so its history goes on in a new timeline" >&2
  return 2
}

ship_all() {
  if [[ -z "${BACKUP_BUCKET:-}" ]]; then
    echo "no backup bucket is set in $BACKUP_BUCKET_ENV_FILE: the backups stay on this server"
    return 0
  fi
  touch "$shipped"
  # The open log's name and position right after it was opened: a log that has not moved holds nothing new.
  local open_log name dump
  open_log="$(sql 'SHOW MASTER STATUS' | cut -f1,2)"
  if [[ "$open_log" != "$(cat "$BACKUP_STATE_DIR/opened" 2>/dev/null || true)" ]]; then
    sql 'FLUSH BINARY LOGS'
    sql 'SHOW MASTER STATUS' | cut -f1,2 >"$BACKUP_STATE_DIR/opened"
  fi
  # The closed logs of this timeline: from the one it started with, the open one left out.
  while read -r name; do
    [[ -z "$name" || "$name" < "$timeline_start" ]] && continue
    grep -qxF "binlogs/$name" "$shipped" || ship_log "$MARIADB_DATA_DIR/$name" "binlogs/$name" || return
  done < <(sql 'SHOW BINARY LOGS' | cut -f1 | head -n -1)
  while read -r dump; do
    [[ -z "$dump" ]] && continue
    grep -qxF "dumps/$dump" "$shipped" || ship "$BACKUP_DIR/$dump" "dumps/$dump" || return 1
  done < <(find "$BACKUP_DIR" -maxdepth 1 -name "$APP_DATABASE-*.sql.gz" -printf '%f\n' | sort)
  date -u +%s >"$BACKUP_STATE_DIR/shipped-at"
}

timeline="$(cat "$BACKUP_STATE_DIR/timeline" 2>/dev/null || true)"
timeline_start="$(cat "$BACKUP_STATE_DIR/timeline-start" 2>/dev/null || true)"
requested=0
[[ "${1:-}" == --new-timeline ]] && requested=1
diverged=0
if [[ -n "$timeline" ]]; then
  status=0
  ship_all || status=$?
  if (( status == 2 )); then
    diverged=1
  elif (( status != 0 )); then
    (( requested )) || fail "shipping to s3://$BACKUP_BUCKET/$BACKUP_PREFIX/$timeline failed (see above); the next run tries again."
    # The old timeline ends here whether or not the bucket answers: what it could not ship stays on this server.
    echo "warning: the rest of timeline $timeline could not be shipped (see above); it stays in $MARIADB_DATA_DIR and $BACKUP_DIR." >&2
  fi
elif (( ! requested )); then
  fail "this server has no backup timeline yet; apply the plan's backups step."
fi

if (( requested || diverged )); then
  # The dumps here belong to the old timeline; the new one starts with the next binary log and a
  # dump taken in it, and is recorded only once that dump exists.
  old_dumps="$(find "$BACKUP_DIR" -maxdepth 1 -name "$APP_DATABASE-*.sql.gz" -printf 'dumps/%f\n')"
  sql 'FLUSH BINARY LOGS'
  timeline_start="$(sql 'SHOW MASTER STATUS' | cut -f1)"
  "$BACKUP_COMMAND"
  timeline="$(date -u +%Y%m%dT%H%M%SZ)-$(head -c 4 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  printf '%s\n' "$timeline_start" >"$BACKUP_STATE_DIR/timeline-start"
  printf '%s\n' "$timeline" >"$BACKUP_STATE_DIR/timeline"
  printf '%s\n' "$old_dumps" >"$shipped"
  rm -f "$BACKUP_STATE_DIR/opened"
  echo "new backup timeline $timeline, from $timeline_start"
  ship_all || echo "warning: timeline $timeline's first dump is not in the bucket yet (see above); the timer sends it." >&2
fi
