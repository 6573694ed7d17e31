# shellcheck shell=bash
# MariaDB on loopback only, cleaned up like mysql_secure_installation does, with the app's database
# and user. The user's password is generated here on first run and kept only in APP_DATABASE_ENV_FILE
# (root-only, read by systemd); it is never printed and never passed on a command line.
ensure_service mariadb
changes_before_mariadb="$(change_count)"
ensure_dir "$(dirname "$MARIADB_UNIT_DROP_IN")" 755 root:root
put_unit "${MARIADB_UNIT_DROP_IN#/etc/systemd/system/}" "$MARIADB_UNIT_SETTINGS"
put_content "$MARIADB_CONFIG_FILE" 644 root:root "$MARIADB_CONFIG"
# Drawn once and kept: a server and its replacement must differ, since a replica skips the
# transactions that carry its own id.
if [[ ! -s "$MARIADB_SERVER_ID_FILE" ]]; then
  put_content "$MARIADB_SERVER_ID_FILE" 644 root:root "$(printf '[mysqld]\nserver_id = %s' "$(( $(od -An -N4 -tu4 /dev/urandom) % 4294967294 + 1 ))")"
fi
if changed_since "$changes_before_mariadb"; then
  systemctl restart mariadb
fi

while read -r account; do
  sql "DROP USER $account"
  mark_changed
done < <(sql "SELECT CONCAT(QUOTE(User), '@', QUOTE(Host)) FROM mysql.user WHERE User = '' OR (User = 'root' AND Host <> 'localhost')")

# Debian's root@localhost has the unusable password 'invalid' next to unix_socket; either is socket-only.
if [[ "$(sql "SELECT COUNT(*) FROM mysql.user WHERE User = 'root' AND Host = 'localhost' AND plugin <> 'unix_socket' AND authentication_string <> 'invalid'")" != 0 ]]; then
  sql "ALTER USER 'root'@'localhost' IDENTIFIED VIA unix_socket"
  mark_changed
fi

if [[ -n "$(sql "SHOW DATABASES LIKE 'test'")" ]]; then
  sql "DROP DATABASE test"
  mark_changed
fi
if [[ "$(sql "SELECT COUNT(*) FROM mysql.db WHERE Db = 'test' OR Db LIKE 'test\\_%'")" != 0 ]]; then
  sql "DELETE FROM mysql.db WHERE Db = 'test' OR Db LIKE 'test\\_%'; FLUSH PRIVILEGES"
  mark_changed
fi

if [[ -z "$(sql "SHOW DATABASES LIKE '$APP_DATABASE'")" ]]; then
  sql "CREATE DATABASE IF NOT EXISTS $APP_DATABASE CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
  mark_changed
fi

password=""
if [[ -f "$APP_DATABASE_ENV_FILE" ]]; then
  password="$(sed -n 's/^DB_PASSWORD=//p' "$APP_DATABASE_ENV_FILE")"
fi
if [[ -z "$password" ]]; then
  password="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
fi
app_env() {
  printf 'DB_SOCKET=%s\nDB_NAME=%s\nDB_USER=%s\nDB_PASSWORD=%s\n' "$DB_SOCKET" "$APP_DATABASE" "$APP_USER" "$password"
}
ensure_dir "$(dirname "$APP_DATABASE_ENV_FILE")" 755 root:root
put_file "$APP_DATABASE_ENV_FILE" 600 root:root < <(app_env)

# Statements that hold the password go to the client on stdin, never on its command line.
if [[ "$(sql "SELECT COUNT(*) FROM mysql.user WHERE User = '$APP_USER' AND Host = 'localhost'")" == 0 ]]; then
  mariadb --protocol=socket <<<"CREATE USER '$APP_USER'@'localhost' IDENTIFIED BY '$password'"
  mark_changed
elif ! MYSQL_PWD="$password" mariadb --protocol=socket --user="$APP_USER" -e 'SELECT 1' >/dev/null 2>&1; then
  mariadb --protocol=socket <<<"ALTER USER '$APP_USER'@'localhost' IDENTIFIED BY '$password'"
  mark_changed
fi

granted="$(sql "SELECT IFNULL(GROUP_CONCAT(PRIVILEGE_TYPE ORDER BY PRIVILEGE_TYPE), '') FROM information_schema.SCHEMA_PRIVILEGES WHERE GRANTEE = CONCAT(QUOTE('$APP_USER'), '@', QUOTE('localhost')) AND TABLE_SCHEMA = '$APP_DATABASE'")"
if [[ "$granted" != "$APP_DATABASE_PRIVILEGES" ]]; then
  if [[ -n "$granted" ]]; then
    sql "REVOKE ALL PRIVILEGES ON $APP_DATABASE.* FROM '$APP_USER'@'localhost'"
  fi
  sql "GRANT $APP_DATABASE_PRIVILEGES ON $APP_DATABASE.* TO '$APP_USER'@'localhost'"
  mark_changed
fi
