# shellcheck shell=bash
# Usage: webstack-restore [DUMP]
#        webstack-restore --until 'TIME'
#        webstack-restore --recover
#        webstack-restore --verify
#   Restores the app's database while the site keeps serving, from DUMP (a file in BACKUP_DIR, by
#   name or path) or the newest dump there; or, with --until (UTC, for example '2026-12-07 09:10:00'),
#   to that second: the newest dump taken before it, and its timeline's binary logs replayed up to
#   it. With a backup bucket set, the dumps and logs of every timeline in it count, and any not on
#   this server is read from the bucket: a new server restores a lost one's data.
#   1. the dump is loaded into a staging database beside the live one, and the binary logs replayed
#      into it (the site serves the live data meanwhile, however damaged);
#   2. one RENAME TABLE statement, atomic in MariaDB, moves the live tables into a side database
#      APP_DATABASE_before_restore_<time> and the restored ones into their place: a request sees
#      the old data or the restored data, never a mix and never no table;
#   3. the current release's migrations run, so a dump from an older schema fits the running code;
#   4. a new backup timeline starts with a dump: later restores never replay across this one.
#   --recover is the first thing a new server does (the plan's backups step): it restores everything
#   the bucket holds, up to now, or starts the server's timeline empty when the bucket holds nothing.
#   --verify proves the backups off the server, and changes nothing the site uses: the bucket's newest
#   dump and its binary logs up to now, read from the bucket alone, are loaded into a scratch
#   database, its tables checked, and the scratch database dropped; the time it succeeded is recorded
#   (BACKUP_STATE_DIR/verified-at), which the server reports to CloudWatch.
#   Nothing is dropped: posts that are not in the restored data stay in the side database, and the
#   command says how many and how to copy them back; new posts get ids past theirs, so copying them
#   back never collides.
umask 077
work="$(mktemp -d)"
staging="${APP_DATABASE}_restore"
trap 'rm -rf "$work"' EXIT

until_epoch=""
dump=""
recover=0
verify=0
case "${1:-}" in
  --recover)
    recover=1
    until_epoch="$(date -u +%s)"
    ;;
  --verify)
    verify=1
    until_epoch="$(date -u +%s)"
    staging="${APP_DATABASE}_verify"
    ;;
  --until)
    [[ -n "${2:-}" ]] || fail "--until needs a time (UTC), for example: $RESTORE_COMMAND --until '$(date -u '+%F %T')'"
    until_epoch="$(date -u -d "$2" +%s 2>/dev/null)" || fail "--until '$2' is not a time; give one in UTC, for example '$(date -u '+%F %T')'."
    (( until_epoch <= $(date -u +%s) )) || fail "--until '$2' is in the future (it is $(date -u '+%F %T') UTC now); nothing was changed."
    ;;
  --*) fail "unknown option $1; usage: $RESTORE_COMMAND [DUMP] | --until 'TIME' | --recover | --verify" ;;
  *) dump="${1:-}" ;;
esac

# shellcheck source=/dev/null
source "$BACKUP_BUCKET_ENV_FILE"
export AWS_CA_BUNDLE="$SYSTEM_CA_BUNDLE" AWS_CONFIG_FILE="$AWS_CLI_CONFIG_FILE"
timeline="$(cat "$BACKUP_STATE_DIR/timeline" 2>/dev/null || true)"
timeline_start="$(cat "$BACKUP_STATE_DIR/timeline-start" 2>/dev/null || true)"
# The timeline whose backups are read from this server rather than the bucket: none when verifying the bucket's.
local_timeline="$timeline"
if (( verify )); then
  [[ -n "${BACKUP_BUCKET:-}" ]] || fail "no backup bucket is set in $BACKUP_BUCKET_ENV_FILE: no backup has left this server, so there is none to verify."
  local_timeline=""
fi

# dump_epoch NAME: when a dump was taken, from its name (APP_DATABASE-YYYYmmddTHHMMSSZ.sql.gz).
dump_epoch() {
  local stamp="${1#"$APP_DATABASE"-}"
  date -u -d "${stamp:0:8} ${stamp:9:2}:${stamp:11:2}:${stamp:13:2}" +%s
}

# catalog: every backup there is, one "TIMELINE KIND NAME" line each (KIND dumps or binlogs): this
# server's own, and, with a bucket, those of every timeline in it.
catalog() {
  local name
  if [[ -n "$local_timeline" ]]; then
    find "$BACKUP_DIR" -maxdepth 1 -name "$APP_DATABASE-*.sql.gz" -printf "$timeline dumps %f\n"
    while read -r name; do
      if [[ -n "$name" && ! "$name" < "$timeline_start" ]]; then
        echo "$timeline binlogs $name"
      fi
    done < <(sql 'SHOW BINARY LOGS' | cut -f1)
  fi
  if [[ -n "${BACKUP_BUCKET:-}" ]]; then
    aws s3api list-objects-v2 --region "$AWS_REGION" --bucket "$BACKUP_BUCKET" --prefix "$BACKUP_PREFIX/" \
      --query 'Contents[].[Key]' --output text >"$work/keys" \
      || fail "the backup bucket s3://$BACKUP_BUCKET/$BACKUP_PREFIX/ cannot be read (see above); nothing was changed."
    # An empty listing prints "None", which matches no key.
    sed -n -E "s#^$BACKUP_PREFIX/([^/]+)/(dumps|binlogs)/([^/]+)\$#\1 \2 \3#p" "$work/keys"
  fi
}

# fetch TIMELINE KIND NAME: the path of that backup on this server, read from the bucket when it is not here.
fetch() {
  local local_path="$BACKUP_DIR/$3"
  [[ "$2" == binlogs ]] && local_path="$MARIADB_DATA_DIR/$3"
  if [[ "$1" == "$local_timeline" && -f "$local_path" ]]; then
    echo "$local_path"
    return
  fi
  aws s3 cp --only-show-errors --region "$AWS_REGION" "s3://$BACKUP_BUCKET/$BACKUP_PREFIX/$1/$2/$3" "$work/$1-$3" >&2 \
    || fail "$BACKUP_PREFIX/$1/$2/$3 cannot be read from s3://$BACKUP_BUCKET (see above); nothing was changed."
  echo "$work/$1-$3"
}

dump_timeline="$timeline"
if [[ -n "$until_epoch" ]]; then
  # What was written up to now is in closed logs, which this restore can read.
  sql 'FLUSH BINARY LOGS'
  catalog | sort -u >"$work/catalog"
  if (( recover )); then
    why=""
    if sql "SELECT 1 FROM information_schema.tables WHERE table_schema = '$APP_DATABASE' AND table_name = 'posts'" | grep -q 1; then
      why="this server has data of its own, which it keeps"
    elif ! grep -q ' dumps ' "$work/catalog"; then
      why="the backup bucket holds no backups of this stack: the database starts empty"
    fi
    if [[ -n "$why" ]]; then
      echo "$why"
      "$SHIP_BACKUPS_COMMAND" --new-timeline
      exit 0
    fi
  fi
  while read -r candidate_timeline _ name; do
    epoch="$(dump_epoch "$name")"
    if (( epoch <= until_epoch )); then
      printf '%s %s %s\n' "$epoch" "$candidate_timeline" "$name"
    fi
  done < <(grep ' dumps ' "$work/catalog") | sort -n | tail -n 1 >"$work/chosen"
  if [[ ! -s "$work/chosen" ]]; then
    oldest="$(grep ' dumps ' "$work/catalog" | cut -d' ' -f3 | sort | head -n 1)"
    fail "no dump was taken at or before $(date -u -d "@$until_epoch" '+%F %T') UTC${oldest:+ (the oldest is $oldest)}; nothing was changed."
  fi
  read -r _ dump_timeline dump_name <"$work/chosen"
  dump="$(fetch "$dump_timeline" dumps "$dump_name")"
elif [[ -z "$dump" ]]; then
  dump="$(find "$BACKUP_DIR" -maxdepth 1 -name "$APP_DATABASE-*.sql.gz" | sort -r | head -n 1)"
  [[ -n "$dump" ]] || fail "there is no dump in $BACKUP_DIR; take one with: sudo $BACKUP_COMMAND"
elif [[ "$dump" != */* ]]; then
  dump="$BACKUP_DIR/$dump"
fi
[[ -f "$dump" ]] || fail "the dump $dump does not exist; the dumps are: $(find "$BACKUP_DIR" -maxdepth 1 -name '*.sql.gz' -printf '%f ' | sort)"
gzip -t "$dump" 2>/dev/null || fail "the dump $dump is not a complete gzip file; pick another one. Nothing was changed."

# The binary logs to replay: the dump's timeline's, from the position the dump names, in order and without a gap.
replay_logs=()
if [[ -n "$until_epoch" ]]; then
  position="$(gunzip -c "$dump" | head -n 40 | sed -n "s/^-- CHANGE MASTER TO MASTER_LOG_FILE='\([^']*\)', MASTER_LOG_POS=\([0-9]*\);.*/\1 \2/p")"
  [[ -n "$position" ]] || fail "the dump $dump names no binary log position, so nothing can be replayed after it; restore it by name instead."
  read -r first_log start_position <<<"$position"
  mapfile -t replay_logs < <(grep "^$dump_timeline binlogs " "$work/catalog" | cut -d' ' -f3 | sort | awk -v first="$first_log" '$0 >= first')
  # No log from the dump's on: nothing was written after the dump that reached the bucket (shipping
  # closes and sends a log within half a minute of a write), so the dump is all there is to restore.
  if (( ${#replay_logs[@]} > 0 )); then
    [[ "${replay_logs[0]}" == "$first_log" ]] || fail "the binary log $first_log, where the dump $dump ends, is in neither this server nor the bucket, while later ones are; nothing was changed."
  fi
  expected=$((10#${first_log##*.}))
  for name in "${replay_logs[@]}"; do
    (( 10#${name##*.} == expected )) || fail "the binary log before $name is missing from timeline $dump_timeline; nothing was changed."
    expected=$((expected + 1))
  done
fi

echo "loading $dump into $staging"
sql "DROP DATABASE IF EXISTS $staging; CREATE DATABASE $staging CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
if ! gunzip -c "$dump" | mariadb --protocol=socket "$staging"; then
  sql "DROP DATABASE IF EXISTS $staging"
  fail "loading $dump failed (see above); the live database is untouched."
fi

stopped_at=""
if (( ${#replay_logs[@]} > 0 )); then
  stop="$(date -u -d "@$until_epoch" '+%F %T')"
  for name in "${replay_logs[@]}"; do
    log_file="$(fetch "$dump_timeline" binlogs "$name")"
    from=()
    [[ "$name" == "$first_log" ]] && from=(--start-position="$start_position")
    # Only the app's database, renamed to the staging one; the replayed transactions get new GTIDs.
    TZ=UTC mariadb-binlog "${from[@]}" --stop-datetime="$stop" --database="$APP_DATABASE" \
      --rewrite-db="$APP_DATABASE->$staging" "$log_file" | sed '/SET @@session.gtid_seq_no=/d' >"$work/replay.sql"
    if ! mariadb --protocol=socket <"$work/replay.sql"; then
      sql "DROP DATABASE IF EXISTS $staging"
      fail "replaying $name failed (see above); the live database is untouched."
    fi
    # The last transaction replayed: its commit's header, "#YYMMDD H:MM:SS server id N  end_log_pos P ... Xid = X".
    last_commit="$(sed -n -E 's/^#([0-9]{2})([0-9]{2})([0-9]{2}) +([0-9]{1,2}:[0-9]{2}:[0-9]{2}) server id [0-9]+ +end_log_pos ([0-9]+) .*Xid = .*/20\1-\2-\3 \4 \5/p' "$work/replay.sql" | tail -n 1)"
    if [[ -n "$last_commit" ]]; then
      read -r day time end_position <<<"$last_commit"
      stopped_at="$name at $end_position, the last write of $(date -u -d "$day $time" '+%F %T') UTC"
    fi
  done
fi

restored_tables="$(sql "SELECT table_name FROM information_schema.tables WHERE table_schema = '$staging' ORDER BY table_name")"
if ! grep -qx posts <<<"$restored_tables"; then
  sql "DROP DATABASE IF EXISTS $staging"
  fail "$dump holds no posts table; it is not a dump of $APP_DATABASE. The live database is untouched."
fi

if (( verify )); then
  table_check="$(mariadb-check --protocol=socket "$staging" 2>&1)" || true
  restored_posts="$(sql "SELECT COUNT(*) FROM $staging.posts")"
  sql "DROP DATABASE $staging"
  failed_tables="$(grep -v ' OK$' <<<"$table_check" || true)"
  [[ -z "$failed_tables" ]] || fail "the restored copy of $dump_timeline/dumps/$dump_name fails CHECK TABLE, so it is not counted as verified:"$'\n'"$failed_tables"
  date -u +%s >"$BACKUP_STATE_DIR/verified-at"
  echo "verified: $dump_timeline/dumps/$dump_name and ${#replay_logs[@]} binary log(s) from s3://$BACKUP_BUCKET/$BACKUP_PREFIX restore into a scratch database: $(wc -l <<<"$restored_tables") tables check OK, $restored_posts posts, up to ${stopped_at:-the dump itself (no write after it)}"
  exit 0
fi

# New posts must never take the id of a post kept aside (it could not be copied back): the
# restored table counts on from past the live one's counter, with room for posts written meanwhile.
next_id="$(sql "SELECT COALESCE(MAX(AUTO_INCREMENT), 1) + 1000 FROM information_schema.tables WHERE table_schema = '$APP_DATABASE' AND table_name = 'posts'")"
sql "ALTER TABLE $staging.posts AUTO_INCREMENT = $next_id"

side="${APP_DATABASE}_before_restore_$(date -u +%Y%m%dT%H%M%SZ)"
renames=()
while read -r table; do
  [[ -n "$table" ]] && renames+=("$APP_DATABASE.$table TO $side.$table")
done < <(sql "SELECT table_name FROM information_schema.tables WHERE table_schema = '$APP_DATABASE'")
while read -r table; do
  renames+=("$staging.$table TO $APP_DATABASE.$table")
done <<<"$restored_tables"
sql "CREATE DATABASE $side CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci; CREATE DATABASE IF NOT EXISTS $APP_DATABASE CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
sql "RENAME TABLE $(IFS=,; echo "${renames[*]}")"
sql "DROP DATABASE $staging"
echo "restored $APP_DATABASE from $dump: $(sql "SELECT COUNT(*) FROM $APP_DATABASE.posts") posts"
if [[ -n "$until_epoch" ]]; then
  echo "replayed the binary logs of timeline $dump_timeline up to $(date -u -d "@$until_epoch" '+%F %T') UTC: stopped at ${stopped_at:-the dump itself (no write after it)}"
fi

if [[ -e "$CURRENT_LINK" ]]; then
  run_migrations "$(readlink -f "$CURRENT_LINK")" \
    || fail "the restored database is live, but the current release's migrations failed on it (see above)."
fi
"$SHIP_BACKUPS_COMMAND" --new-timeline

posts_not_in_dump=0
if sql "SELECT 1 FROM information_schema.tables WHERE table_schema = '$side' AND table_name = 'posts'" | grep -q 1; then
  posts_not_in_dump="$(sql "SELECT COUNT(*) FROM $side.posts old LEFT JOIN $APP_DATABASE.posts restored ON restored.id = old.id WHERE restored.id IS NULL")"
fi
echo "the tables as they were before the restore are kept in the database $side"
if (( posts_not_in_dump > 0 )); then
  echo "warning: $posts_not_in_dump post(s) from before the restore are not in the dump (written after it was taken); they are in $side.posts." >&2
  echo "  see them:        sudo mariadb -e \"SELECT * FROM $side.posts WHERE id NOT IN (SELECT id FROM $APP_DATABASE.posts)\"" >&2
  echo "  copy them back:  sudo mariadb -e \"INSERT INTO $APP_DATABASE.posts SELECT * FROM $side.posts WHERE id NOT IN (SELECT id FROM $APP_DATABASE.posts)\"" >&2
else
  echo "every post from before the restore is in the restored database"
fi
echo "when you no longer need it: sudo mariadb -e 'DROP DATABASE $side'"
echo "posts missing from the dump: $posts_not_in_dump"
