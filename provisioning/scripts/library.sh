# shellcheck shell=bash
# Helpers that every plan script gets (provisioning/script.ts puts them in front of its body).
# Each one probes before it changes anything and calls mark_changed only when it did change
# something; the script ends by printing "changed: N".
changed=0
mark_changed() { changed=$((changed + 1)); }

# change_count prints how many changes so far; changed_since COUNT is true when there have been
# more since, so that a step reloads a service only when one of its files changed.
change_count() { echo "$changed"; }
changed_since() { (( changed > $1 )); }

# fail MESSAGE: stops the script with a message that says what went wrong and what to do.
fail() {
  echo "error: $*" >&2
  exit 1
}

# action_pending NAME CHANGES_BEFORE: true when a change since CHANGES_BEFORE calls for the action
# NAME (a reload), or when an earlier run's change did and the action failed then (nginx -t refused
# a file that is fixed now): a run that sees its files unchanged would otherwise never do it. The
# action is due until action_done NAME; doing an earlier run's action counts as a change.
action_pending() {
  local marker="$PENDING_ACTIONS_DIR/$1"
  if changed_since "$2"; then
    mkdir -p "$PENDING_ACTIONS_DIR"
    touch "$marker"
    return 0
  fi
  if [[ -e "$marker" ]]; then
    mark_changed
    return 0
  fi
  return 1
}
action_done() { rm -f "$PENDING_ACTIONS_DIR/$1"; }

# logged COMMAND...: runs a chatty command (apt) with its output appended to PROVISIONING_LOG_FILE
# rather than the step's, which executors keep (Pulumi in the stack's state); when it fails, the
# log's last lines go to stderr so that the step's error still says why.
logged() {
  local status=0
  printf '== %s %s\n' "$(date -Is)" "$*" >>"$PROVISIONING_LOG_FILE"
  "$@" >>"$PROVISIONING_LOG_FILE" 2>&1 || status=$?
  if (( status != 0 )); then
    echo "'$*' failed with exit code $status; the end of $PROVISIONING_LOG_FILE:" >&2
    tail -n 25 "$PROVISIONING_LOG_FILE" >&2
  fi
  return "$status"
}

# put_file PATH MODE OWNER:GROUP < content   (MODE as stat prints it: 644, not 0644)
# Writes stdin to PATH only when content, mode or owner differ, atomically (rename). Afterwards
# wrote_file says whether it wrote, so that a caller reloads a service only when its file changed.
# The path joins owned_files, which the step records when it ends (record_owned_files).
file_changed=0
owned_files=()
wrote_file() { (( file_changed )); }
put_file() {
  local path="$1" mode="$2" owner="$3" staged
  owned_files+=("$path")
  staged="$(mktemp "$(dirname "$path")/.put_file.XXXXXX")"
  cat > "$staged"
  if [[ -f "$path" ]] && cmp -s "$staged" "$path" \
     && [[ "$(stat -c '%a %U:%G' "$path")" == "$mode $owner" ]]; then
    rm -f "$staged"
    file_changed=0
    return 0
  fi
  chmod "$mode" "$staged"
  chown "$owner" "$staged"
  mv -f "$staged" "$path"
  file_changed=1
  mark_changed
}

# record_owned_files: the hashes of the files this step put, in STEP_RECORDS_DIR/PLAN_STEP.sha256,
# where the drift check compares them with the disk. Bookkeeping, not a change of the server.
record_owned_files() {
  local record="$STEP_RECORDS_DIR/$PLAN_STEP.sha256" staged
  mkdir -p "$STEP_RECORDS_DIR"
  staged="$(mktemp "$STEP_RECORDS_DIR/.record.XXXXXX")"
  if (( ${#owned_files[@]} > 0 )); then
    printf '%s\0' "${owned_files[@]}" | sort -zu | xargs -0 sha256sum -- > "$staged"
  fi
  mv -f "$staged" "$record"
}

# put_content PATH MODE OWNER:GROUP CONTENT: put_file with the content from a string, exactly.
put_content() {
  put_file "$1" "$2" "$3" < <(printf '%s' "$4")
}

# ensure_dir PATH MODE OWNER:GROUP
ensure_dir() {
  local path="$1" mode="$2" owner="$3"
  if [[ -d "$path" && "$(stat -c '%a %U:%G' "$path")" == "$mode $owner" ]]; then
    return 0
  fi
  install -d -m "$mode" -o "${owner%%:*}" -g "${owner##*:}" "$path"
  mark_changed
}

# ensure_mode MODE PATH...: the mode of each path that exists (MODE as stat prints it: 700).
ensure_mode() {
  local mode="$1" path
  shift
  for path in "$@"; do
    if [[ -e "$path" && "$(stat -c '%a' "$path")" != "$mode" ]]; then
      chmod "$mode" "$path"
      mark_changed
    fi
  done
}

# package_lists_fresh MINUTES: true when this plan fetched apt's package lists in the last MINUTES
# (APT_LISTS_FETCHED_STAMP). Only the plan's own fetch counts: an image's lists can be recent yet
# lack a source it names (security).
package_lists_fresh() {
  [[ -n "$(find "$APT_LISTS_FETCHED_STAMP" -mmin "-$1" 2>/dev/null)" ]]
}

# refresh_package_lists MINUTES: apt's package lists, fetched unless they are fresh (package_lists_fresh).
refresh_package_lists() {
  local minutes="$1"
  if ! package_lists_fresh "$minutes"; then
    apt-get update -q >/dev/null
    mkdir -p "$(dirname "$APT_LISTS_FETCHED_STAMP")"
    touch "$APT_LISTS_FETCHED_STAMP"
  fi
}

# missing_packages NAME...: prints, one per line, those of the packages that are not installed.
missing_packages() {
  local package
  for package in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q '^install ok installed$'; then
      echo "$package"
    fi
  done
}

# ensure_packages NAME...: installs the packages that are not installed yet, with lists no older
# than a step of the same run fetched.
ensure_packages() {
  local missing
  mapfile -t missing < <(missing_packages "$@")
  if (( ${#missing[@]} > 0 )); then
    refresh_package_lists 10
    logged env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
    mark_changed
  fi
}

# ensure_enabled UNIT: started at boot.
ensure_enabled() {
  local unit="$1"
  if ! systemctl is-enabled --quiet "$unit"; then
    systemctl enable --quiet "$unit"
    mark_changed
  fi
}

# ensure_service UNIT: enabled at boot and running now.
ensure_service() {
  local unit="$1"
  ensure_enabled "$unit"
  if ! systemctl is-active --quiet "$unit"; then
    systemctl start "$unit"
    mark_changed
  fi
}

# retire_service UNIT: stopped and not started at boot (for example an app instance no longer wanted).
retire_service() {
  local unit="$1"
  if systemctl is-enabled --quiet "$unit" 2>/dev/null || systemctl is-active --quiet "$unit"; then
    systemctl disable --now --quiet "$unit"
    mark_changed
  fi
}

# put_unit NAME CONTENT: a systemd unit in /etc/systemd/system; systemd rereads units when it changed.
put_unit() {
  put_content "/etc/systemd/system/$1" 644 root:root "$2"
  if wrote_file; then
    systemctl daemon-reload
  fi
}

# put_sshd_config FILE CONTENT: an sshd drop-in, validated with sshd -t before sshd reloads; one that
# sshd refuses is removed again, so that a mistake never locks the provisioner out.
put_sshd_config() {
  local file="$1" changes_before
  changes_before="$(change_count)"
  put_content "$file" 600 root:root "$2"
  if changed_since "$changes_before"; then
    if ! sshd -t; then
      rm -f "$file"
      fail "sshd refused $file (above); it was removed again and sshd keeps running as it was."
    fi
    systemctl reload ssh
  fi
}

# ensure_system_user NAME: a system user and group without a login shell or home directory.
ensure_system_user() {
  local name="$1"
  if ! id -u "$name" >/dev/null 2>&1; then
    useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$name"
    mark_changed
  fi
}

# sql STATEMENT: runs SQL as MariaDB's root, who logs in through the unix socket as the system's
# root; prints the result without headers, tab-separated.
sql() { mariadb --batch --skip-column-names --protocol=socket -e "$1"; }

# reload_nginx: validates the configuration first; a broken configuration is never loaded.
reload_nginx() {
  nginx -t -q
  systemctl reload nginx
}

# run_migrations RELEASE_DIR: applies the release's database migrations (`node migrate.js`, which
# every release carries) as the app's system user, under the app's unit hardening, with its database settings
# and, where MIGRATOR_ENV_FILE exists (a fleet's server), the database user it names.
run_migrations() {
  local release_dir="$1" hardening
  mapfile -t hardening <<<"$MIGRATION_HARDENING"
  systemd-run --quiet --wait --pipe --collect --uid="$APP_USER" --gid="$APP_USER" \
    --property=EnvironmentFile="$APP_DATABASE_ENV_FILE" --property=EnvironmentFile=-"$MIGRATOR_ENV_FILE" \
    --property=WorkingDirectory="$release_dir" \
    --setenv=RELEASE_ID="$(basename "$release_dir")" --setenv=NODE_ENV=production "${hardening[@]/#/--property=}" \
    /usr/bin/node "$release_dir/migrate.js"
}

# set_setting FILE KEY SEPARATOR VALUE: the line KEY<SEPARATOR>VALUE in a settings file (" " for
# login.defs, "=" for /etc/default files), replacing the key's line or appending one.
set_setting() {
  local file="$1" key="$2" separator="$3" value="$4" line pattern
  line="${key}${separator}${value}"
  pattern="^${key}[[:space:]]*${separator// /[[:space:]]}"
  if grep -qxF -- "$line" "$file"; then
    return 0
  fi
  if grep -qE "$pattern" "$file"; then
    sed -i -E "s|${pattern}.*|${line}|" "$file"
  else
    printf '%s\n' "$line" >>"$file"
  fi
  mark_changed
}
