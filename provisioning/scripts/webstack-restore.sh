# shellcheck shell=bash
# Usage: webstack-restore [DUMP]
#   Restores the app's database from DUMP (a file in BACKUP_DIR, by name or path), or from the newest
#   dump there, while the site keeps serving:
#   1. the dump is loaded into a staging database, beside the live one (the site serves the live
#      data meanwhile, however damaged);
#   2. one RENAME TABLE statement, atomic in MariaDB, moves the live tables into a side database
#      APP_DATABASE_before_restore_<time> and the restored ones into their place: a request sees
#      the old data or the restored data, never a mix and never no table;
#   3. the current release's migrations run, so a dump from an older schema fits the running code.
#   Nothing is dropped: posts that were written after the dump (or are missing from it) stay in the
#   side database, and the command says how many and how to copy them back; new posts get ids past
#   theirs, so copying them back never collides.
umask 077
dump="${1:-}"
if [[ -z "$dump" ]]; then
  dump="$(find "$BACKUP_DIR" -maxdepth 1 -name "$APP_DATABASE-*.sql.gz" | sort -r | head -n 1)"
  [[ -n "$dump" ]] || fail "there is no dump in $BACKUP_DIR; take one with: sudo $BACKUP_COMMAND"
elif [[ "$dump" != */* ]]; then
  dump="$BACKUP_DIR/$dump"
fi
[[ -f "$dump" ]] || fail "the dump $dump does not exist; the dumps are: $(find "$BACKUP_DIR" -maxdepth 1 -name '*.sql.gz' -printf '%f ' | sort)"
gzip -t "$dump" 2>/dev/null || fail "the dump $dump is not a complete gzip file; pick another one from $BACKUP_DIR."

staging="${APP_DATABASE}_restore"
side="${APP_DATABASE}_before_restore_$(date -u +%Y%m%dT%H%M%SZ)"

echo "loading $dump into $staging"
sql "DROP DATABASE IF EXISTS $staging; CREATE DATABASE $staging CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
if ! gunzip -c "$dump" | mariadb --protocol=socket "$staging"; then
  sql "DROP DATABASE IF EXISTS $staging"
  fail "loading $dump failed (see above); the live database is untouched."
fi
restored_tables="$(sql "SELECT table_name FROM information_schema.tables WHERE table_schema = '$staging' ORDER BY table_name")"
if ! grep -qx posts <<<"$restored_tables"; then
  sql "DROP DATABASE IF EXISTS $staging"
  fail "$dump holds no posts table; it is not a dump of $APP_DATABASE. The live database is untouched."
fi

# New posts must never take the id of a post kept aside (it could not be copied back): the
# restored table counts on from past the live one's counter, with room for posts written meanwhile.
next_id="$(sql "SELECT COALESCE(MAX(AUTO_INCREMENT), 1) + 1000 FROM information_schema.tables WHERE table_schema = '$APP_DATABASE' AND table_name = 'posts'")"
sql "ALTER TABLE $staging.posts AUTO_INCREMENT = $next_id"

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

if [[ -e "$CURRENT_LINK" ]]; then
  run_migrations "$(readlink -f "$CURRENT_LINK")" \
    || fail "the restored database is live, but the current release's migrations failed on it (see above)."
fi

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
