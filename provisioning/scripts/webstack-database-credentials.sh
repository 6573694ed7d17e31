# shellcheck shell=bash
# Usage: webstack-database-credentials [--restart-if-changed]
#   Writes APP_ENV_FILE: the shared database's address, the CA bundle its certificate must chain to,
#   and the master user's name and password from the Secrets Manager secret SECRET_ARN, which RDS
#   manages and rotates. Every app instance runs it as root before it starts (ExecStartPre); a timer
#   runs it with --restart-if-changed, which restarts the instances one at a time when RDS rotated
#   the password. When Secrets Manager does not answer and the file exists, the file stays as it is.
#   The password is never printed and never on a command line.
restart=no
case "${1:-}" in
  --restart-if-changed) restart=yes ;;
  "") ;;
  *) fail "usage: webstack-database-credentials [--restart-if-changed]" ;;
esac

fetch_secret() {
  load_role_credentials &&
    aws_request secretsmanager -X POST -H 'X-Amz-Target: secretsmanager.GetSecretValue' \
      -H 'Content-Type: application/x-amz-json-1.1' --data "{\"SecretId\":\"$SECRET_ARN\"}" "$SECRETS_MANAGER_ENDPOINT/"
}

if ! secret="$(fetch_secret)"; then
  if [[ -f "$APP_ENV_FILE" ]]; then
    echo "webstack-database-credentials: Secrets Manager did not answer; the app keeps the credentials it has." >&2
    exit 0
  fi
  fail "Secrets Manager gave no credentials for $SECRET_ARN: the instance role must be allowed secretsmanager:GetSecretValue on it, and the server must reach $SECRETS_MANAGER_ENDPOINT."
fi

# The secret's name and password, quoted for systemd's EnvironmentFile= as the app's own environment is.
credentials="$(python3 -c '
import json, re, sys
secret = json.loads(json.load(sys.stdin)["SecretString"])
quoted = lambda value: "\"" + re.sub(r"([\\\"$`])", r"\\\1", value) + "\""
print("DB_USER=" + quoted(secret["username"]))
print("DB_PASSWORD=" + quoted(secret["password"]))
' <<<"$secret")" || fail "the secret $SECRET_ARN is not the JSON RDS keeps (username and password)."

ensure_dir "$(dirname "$APP_ENV_FILE")" 755 root:root
put_content "$APP_ENV_FILE" 600 root:root "$(printf 'DB_HOST=%s\nDB_PORT=%s\nDB_NAME=%s\nDB_TLS_CA_FILE=%s\n%s\n' \
  "$DB_HOST" "$DB_PORT" "$DB_NAME" "$DB_TLS_CA_FILE" "$credentials")
"
if wrote_file && [[ "$restart" == yes && -L "$CURRENT_LINK" ]]; then
  echo "webstack-database-credentials: the credentials changed; restarting the app instances one at a time." >&2
  "$ACTIVATE_COMMAND" --restart-all "$(basename "$(readlink "$CURRENT_LINK")")"
fi
