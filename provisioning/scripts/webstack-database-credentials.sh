# shellcheck shell=bash
# Usage: webstack-database-credentials [--restart-if-changed]
#   Writes the shared database's settings for the app and its migrations, from two Secrets Manager
#   secrets: APP_SECRET_ARN, the app's own user (the stack makes it), and MASTER_SECRET_ARN, RDS's
#   master user (RDS makes and rotates it).
#   - APP_DATABASE_ENV_FILE: the database's address, the CA bundle its certificate must chain to, and the app
#     user's name and password. Before the file takes a new user or password, the app user is made
#     in the database, or its password set, with APP_PRIVILEGES on DB_NAME alone, as the master user.
#   - MIGRATOR_ENV_FILE: the master user's name and password, which the migrations run as.
#   Every app instance runs it as root before it starts (ExecStartPre); a timer runs it with
#   --restart-if-changed, which restarts the instances one at a time when the app's credentials
#   changed. When Secrets Manager or the database does not answer and the app has credentials, they
#   stay as they are and the next run tries again. No password is ever printed or on a command line.
restart=no
case "${1:-}" in
  --restart-if-changed) restart=yes ;;
  "") ;;
  *) fail "usage: webstack-database-credentials [--restart-if-changed]" ;;
esac

# keep_or_fail MESSAGE: with credentials already in place the app keeps them (exit 0); without, MESSAGE is fatal.
keep_or_fail() {
  if [[ -f "$APP_DATABASE_ENV_FILE" ]]; then
    echo "webstack-database-credentials: $1; the app keeps the credentials it has." >&2
    exit 0
  fi
  fail "$1."
}

# secret_string ARN: the secret's string, asked of Secrets Manager with the instance role's credentials.
secret_string() {
  local answer
  load_role_credentials &&
    answer="$(aws_request secretsmanager -X POST -H 'X-Amz-Target: secretsmanager.GetSecretValue' \
      -H 'Content-Type: application/x-amz-json-1.1' --data "{\"SecretId\":\"$1\"}" "$SECRETS_MANAGER_ENDPOINT/")" &&
    python3 -c 'import json, sys; print(json.load(sys.stdin)["SecretString"])' <<<"$answer"
}

# A database user's secret (JSON: username and password) on stdin, read by Python as MODE says:
#   env                      DB_USER and DB_PASSWORD, quoted for EnvironmentFile= as the app's own environment is
#   field NAME               one field
#   user-sql PRIVILEGES DB   the statements that make the user, or set its password, and grant it PRIVILEGES on DB
# A grant only ever adds: a revoke first would leave the servers already connected as the user
# without privileges for a moment.
read -r -d '' SECRET_READER <<'PYTHON' || true
import json, re, sys
secret = json.loads(sys.stdin.read())
mode = sys.argv[1]
if mode == "env":
    quoted = lambda value: '"' + re.sub(r'([\\"$`])', r'\\\1', value) + '"'
    print("DB_USER=" + quoted(secret["username"]))
    print("DB_PASSWORD=" + quoted(secret["password"]))
elif mode == "field":
    print(secret[sys.argv[2]])
elif mode == "user-sql":
    quote = chr(39)  # a single quote, which would end the quoting this script is shipped in
    literal = lambda value: quote + value.replace("\\", "\\\\").replace(quote, "\\" + quote) + quote
    account = literal(secret["username"]) + "@" + literal("%")
    password = literal(secret["password"])
    print(f"CREATE USER IF NOT EXISTS {account} IDENTIFIED BY {password} REQUIRE SSL;")
    print(f"ALTER USER {account} IDENTIFIED BY {password} REQUIRE SSL;")
    print(f"GRANT {sys.argv[2]} ON `{sys.argv[3]}`.* TO {account};")
PYTHON

# read_secret ARN SECRET MODE [ARGUMENTS]: SECRET as MODE says, or a failure that names the secret.
read_secret() {
  local arn="$1" secret="$2"
  shift 2
  python3 -c "$SECRET_READER" "$@" <<<"$secret" 2>/dev/null ||
    fail "the secret $arn is not the JSON of a database user (username and password)."
}

# ensure_app_user: the app's user in the database with its secret's password and APP_PRIVILEGES on
# DB_NAME, over TLS (the server's certificate checked) as the master user. The statements, which
# hold the app's password, go on stdin; the master's password goes in MYSQL_PWD. A database that
# does not answer (the client's errors 2002-2013: RDS starting, or failing over to its standby) is
# asked again every DATABASE_RETRY_SECONDS, DATABASE_CONNECT_ATTEMPTS times in all; a refusal fails
# at once.
ensure_app_user() {
  local statements master_user master_password attempt errors
  statements="$(read_secret "$APP_SECRET_ARN" "$app_secret" user-sql "$APP_PRIVILEGES" "$DB_NAME")" || return 1
  master_user="$(read_secret "$MASTER_SECRET_ARN" "$master_secret" field username)" || return 1
  master_password="$(read_secret "$MASTER_SECRET_ARN" "$master_secret" field password)" || return 1
  for (( attempt = 1; ; attempt++ )); do
    if errors="$(MYSQL_PWD="$master_password" "$DATABASE_CLIENT" --host="$DB_HOST" --port="$DB_PORT" --user="$master_user" \
      --ssl-ca="$DB_TLS_CA_FILE" --ssl-verify-server-cert --connect-timeout=10 --batch <<<"$statements" 2>&1 >/dev/null)"; then
      return 0
    fi
    echo "$errors" >&2
    if (( attempt >= DATABASE_CONNECT_ATTEMPTS )) || ! grep -qE '^ERROR 20(0[2-9]|1[0-3]) ' <<<"$errors"; then
      return 1
    fi
    echo "webstack-database-credentials: the database at $DB_HOST:$DB_PORT does not answer yet; asking again in $DATABASE_RETRY_SECONDS s (attempt $((attempt + 1)) of $DATABASE_CONNECT_ATTEMPTS)." >&2
    sleep "$DATABASE_RETRY_SECONDS"
  done
}

app_secret="$(secret_string "$APP_SECRET_ARN")" ||
  keep_or_fail "Secrets Manager gave no credentials for $APP_SECRET_ARN: the instance role must be allowed secretsmanager:GetSecretValue on it, and the server must reach $SECRETS_MANAGER_ENDPOINT"
master_secret="$(secret_string "$MASTER_SECRET_ARN")" ||
  keep_or_fail "Secrets Manager gave no credentials for $MASTER_SECRET_ARN: the instance role must be allowed secretsmanager:GetSecretValue on it, and the server must reach $SECRETS_MANAGER_ENDPOINT"

master_lines="$(read_secret "$MASTER_SECRET_ARN" "$master_secret" env)"
app_lines="$(read_secret "$APP_SECRET_ARN" "$app_secret" env)"
ensure_dir "$(dirname "$APP_DATABASE_ENV_FILE")" 755 root:root
put_content "$MIGRATOR_ENV_FILE" 600 root:root "$master_lines
"
app_settings="$(printf 'DB_HOST=%s\nDB_PORT=%s\nDB_NAME=%s\nDB_TLS_CA_FILE=%s\n%s\n' \
  "$DB_HOST" "$DB_PORT" "$DB_NAME" "$DB_TLS_CA_FILE" "$app_lines")
"
if ! cmp -s <(printf '%s' "$app_settings") "$APP_DATABASE_ENV_FILE"; then
  ensure_app_user || keep_or_fail "the database at $DB_HOST:$DB_PORT did not take the app user's password from the master user"
fi
put_content "$APP_DATABASE_ENV_FILE" 600 root:root "$app_settings"
if wrote_file && [[ "$restart" == yes && -L "$CURRENT_LINK" ]]; then
  echo "webstack-database-credentials: the credentials changed; restarting the app instances one at a time." >&2
  "$ACTIVATE_COMMAND" --restart-all "$(basename "$(readlink "$CURRENT_LINK")")"
fi
