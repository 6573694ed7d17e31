# shellcheck shell=bash
# Run by the replacement server's key on this (the old) server, through sshd's ForceCommand, as root
# through sudo: reads the replication password on stdin (one line, never on a command line) and makes
# the replication user that copies and follows the app's database from the tunnel's end, 127.0.0.1.
# Again with the same password: nothing changes; with another: the password is replaced.
IFS= read -r password || true
[[ "$password" =~ ^[0-9a-f]{64}$ ]] || fail "expected the replication password (64 hex digits) on stdin."
user="'$REPLICATION_DATABASE_USER'@'127.0.0.1'"
# Hex digits alone, so the quotes hold it; the statement goes to the client on stdin.
password_literal="'$password'"
mariadb --protocol=socket <<<"CREATE USER IF NOT EXISTS $user IDENTIFIED BY $password_literal; ALTER USER $user IDENTIFIED BY $password_literal"
# The copy (mariadb-dump --single-transaction --gtid --master-data) and the following: the app's
# database alone, read, and its binary log.
sql "GRANT REPLICATION SLAVE, BINLOG MONITOR, RELOAD ON *.* TO $user"
sql "GRANT SELECT, LOCK TABLES, SHOW VIEW, TRIGGER, EVENT ON $APP_DATABASE.* TO $user"
echo "replication user ready"
