# shellcheck shell=bash
# Usage: webstack-replica key | allow KEY | follow ADDRESS HOST_KEY | rejoin ADDRESS HOST_KEY | status | promote GTID_POSITION
# Moving the site to a replacement server without losing a write (the old server's side of the
# cut-over is webstack-writes).
#   key (replacement): prints this server's replication key, made once.
#   allow KEY (old server): lets that key, alone, open the tunnel to this server's database and run
#     the grant of the replication user (webstack-replication-grant), nothing else.
#   follow ADDRESS HOST_KEY (replacement): through an SSH tunnel to the old server at ADDRESS (its
#     private address), whose host key is HOST_KEY ("ssh-ed25519 AAAA..."), copies the app's database
#     and follows it as a read-only replica (GTID) until it has caught up. This server's own database
#     is replaced. Again while following the same server: nothing changes.
#   rejoin ADDRESS HOST_KEY (the server the site moved away from, to move it back): follows the
#     server at ADDRESS from this server's own last transaction, without a copy, and opens its site
#     again, its writes still paused until it is promoted.
#   status: "following ADDRESS: ..." or "primary".
#   promote GTID_POSITION (replacement): waits until this server has replayed the old server's
#     transactions up to GTID_POSITION (what webstack-writes pause printed there), then stops
#     following, takes writes (its write pause, if any, ends), and starts a new backup history from
#     a dump of what it now holds.
usage="usage: webstack-replica key | allow KEY | follow ADDRESS HOST_KEY | rejoin ADDRESS HOST_KEY | status | promote GTID_POSITION"
key_file="$REPLICATION_DIR/id_ed25519"
password_file="$REPLICATION_DIR/password"
source_env="$REPLICATION_DIR/source.env"
source_home="/var/lib/$REPLICATION_ACCOUNT"

ensure_key() {
  ensure_dir "$REPLICATION_DIR" 700 root:root
  if [[ ! -f "$key_file" ]]; then
    ssh-keygen -q -t ed25519 -N '' -C "webstack-replica@$(hostname)" -f "$key_file"
  fi
}

# replica_field NAME: a field of SHOW SLAVE STATUS, empty when this server follows no one.
replica_field() {
  mariadb --protocol=socket -e 'SHOW SLAVE STATUS\G' | sed -n "s/^ *$1: //p"
}

following_address() {
  [[ -n "$(replica_field Master_Host)" && -f "$source_env" ]] && sed -n 's/^SOURCE_ADDRESS=//p' "$source_env"
}

describe() {
  local address
  if address="$(following_address)"; then
    echo "following $address: connected $(replica_field Slave_IO_Running), replaying $(replica_field Slave_SQL_Running), $(replica_field Seconds_Behind_Master) s behind, at $(sql 'SELECT @@GLOBAL.gtid_slave_pos')"
  else
    echo "primary: read_only=$(sql 'SELECT @@GLOBAL.read_only'), at $(sql 'SELECT @@GLOBAL.gtid_binlog_pos')"
  fi
}

# from_source ARGS...: a client of the old server's database through the tunnel, as the replication user.
from_source() {
  local program="$1"
  shift
  MYSQL_PWD="$(cat "$password_file")" "$program" --protocol=tcp --host=127.0.0.1 --port="$REPLICA_TUNNEL_PORT" \
    --user="$REPLICATION_DATABASE_USER" "$@"
}

caught_up() {
  [[ "$(replica_field Slave_IO_Running)" == Yes && "$(replica_field Slave_SQL_Running)" == Yes && "$(replica_field Seconds_Behind_Master)" == 0 ]]
}

# already_following ADDRESS: this server follows the server at ADDRESS and has caught up.
already_following() {
  [[ "$(following_address || true)" == "$1" ]] && caught_up
}

# check_source ADDRESS HOST_KEY: fails unless they are an IPv4 address and an ed25519 host key.
check_source() {
  local address="$1" host_key="$2"
  [[ "$address" =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}$ ]] || fail "the old server's address is \"$address\"; expected its private IPv4 address, for example 172.31.5.20."
  [[ "$host_key" =~ ^ssh-ed25519\ [A-Za-z0-9+/]+=*$ ]] || fail "the old server's host key is \"$host_key\"; expected \"ssh-ed25519 AAAA...\" (its /etc/ssh/ssh_host_ed25519_key.pub without the comment)."
}

# open_tunnel ADDRESS HOST_KEY: the tunnel to the old server's database up, this server read-only and
# following no one.
open_tunnel() {
  local address="$1" host_key="$2"
  ensure_key
  put_content "$REPLICATION_DIR/known_hosts" 600 root:root "$address $host_key"
  put_content "$source_env" 600 root:root "SOURCE_ADDRESS=$address"
  if [[ ! -s "$password_file" ]]; then
    put_content "$password_file" 600 root:root "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
  fi
  # The old server's grant reads the password on stdin; it never appears on a command line.
  if ! ssh -T -i "$key_file" -o UserKnownHostsFile="$REPLICATION_DIR/known_hosts" -o StrictHostKeyChecking=yes -o BatchMode=yes \
    -o ConnectTimeout=10 "$REPLICATION_ACCOUNT@$address" <"$password_file"; then
    fail "the old server at $address did not let this server in (above). Does it answer on port 22 from here, is its replication step applied, and was this server's key allowed there (webstack-replica allow \"\$(webstack-replica key)\")?"
  fi
  put_unit "$REPLICA_TUNNEL_UNIT" "$REPLICA_TUNNEL_UNIT_FILE"
  systemctl restart "$REPLICA_TUNNEL_UNIT"
  for _ in $(seq 1 30); do
    from_source mariadb --batch --skip-column-names -e 'SELECT 1' >/dev/null 2>&1 && break
    sleep 1
  done
  from_source mariadb --batch --skip-column-names -e 'SELECT 1' >/dev/null ||
    fail "the tunnel to the old server's database does not answer (journalctl -u $REPLICA_TUNNEL_UNIT)."
  sql "SET GLOBAL read_only = ON"
  sql "STOP SLAVE"
  sql "RESET SLAVE ALL"
}

# follow_from slave_pos|current_pos: replicates from the old server through the tunnel, from the
# position the copy set or from this server's own, until it has caught up.
follow_from() {
  mariadb --protocol=socket <<<"CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=$REPLICA_TUNNEL_PORT, MASTER_USER='$REPLICATION_DATABASE_USER', MASTER_PASSWORD='$(cat "$password_file")', MASTER_USE_GTID=$1, MASTER_CONNECT_RETRY=2"
  sql "START SLAVE"
  for _ in $(seq 1 60); do
    caught_up && break
    sleep 1
  done
  caught_up || fail "this server does not keep up with the old server: $(describe); $(replica_field Last_IO_Error) $(replica_field Last_SQL_Error)"
}

case "${1:-}" in
  key)
    (( $# == 1 )) || fail "$usage"
    ensure_key
    cat "$key_file.pub"
    ;;
  allow)
    (( $# == 2 )) || fail "$usage"
    [[ "$2" =~ ^ssh-ed25519\ [A-Za-z0-9+/]+=*( [^[:cntrl:]]*)?$ ]] || fail "the key to allow is \"$2\"; expected what webstack-replica key printed on the replacement (ssh-ed25519 AAAA...)."
    ensure_dir "$source_home/.ssh" 700 "$REPLICATION_ACCOUNT:$REPLICATION_ACCOUNT"
    put_content "$source_home/.ssh/authorized_keys" 600 "$REPLICATION_ACCOUNT:$REPLICATION_ACCOUNT" "$2"
    echo "allowed: that key may open the tunnel to this server's database"
    ;;
  follow)
    (( $# == 3 )) || fail "$usage"
    check_source "$2" "$3"
    if ! already_following "$2"; then
      open_tunnel "$2" "$3"
      # Nothing but the copy writes here from now on; this server's own history (its provisioning) is dropped.
      sql "RESET MASTER"
      # One consistent snapshot, with the old server's GTID position at that instant (SET GLOBAL
      # gtid_slave_pos), loaded without logging it: the copy is the old server's history, not news.
      {
        echo "SET SESSION sql_log_bin = 0;"
        from_source mariadb-dump --single-transaction --gtid --master-data=1 --triggers --databases "$APP_DATABASE"
      } | mariadb --protocol=socket
      # This server's log starts where the copy does, so that the old server can rejoin it from its
      # own last transaction (moving back) even when nothing was written in between.
      sql "SET GLOBAL gtid_binlog_state = '$(sql 'SELECT @@GLOBAL.gtid_slave_pos')'"
      follow_from slave_pos
    fi
    describe
    ;;
  rejoin)
    (( $# == 3 )) || fail "$usage"
    check_source "$2" "$3"
    if ! already_following "$2"; then
      open_tunnel "$2" "$3"
      # What this server wrote last is where it picks up: the server it follows logged it too.
      follow_from current_pos
    fi
    ensure_service nginx
    describe
    ;;
  status)
    (( $# == 1 )) || fail "$usage"
    describe
    ;;
  promote)
    (( $# == 2 )) || fail "$usage"
    position="$2"
    [[ "$position" =~ ^([0-9]+-[0-9]+-[0-9]+(,[0-9]+-[0-9]+-[0-9]+)*)?$ ]] || fail "the old server's position is \"$position\"; expected what webstack-writes pause printed there, for example 0-3125-4711."
    if [[ -z "$(replica_field Master_Host)" ]]; then
      [[ "$(sql 'SELECT @@GLOBAL.read_only')" == 0 ]] || fail "this server follows no one and is read-only; run webstack-replica follow first."
      describe
      exit 0
    fi
    waited="$(sql "SELECT MASTER_GTID_WAIT('$position', $PROMOTE_TIMEOUT_SECONDS)")"
    [[ "$waited" == 0 ]] || fail "this server has not replayed the old server's transactions up to $position within $PROMOTE_TIMEOUT_SECONDS s ($(describe)). The old server still holds the site with its writes paused: try again, or call the move off there (webstack-writes resume)."
    sql "STOP SLAVE"
    sql "RESET SLAVE ALL"
    sql "SET GLOBAL read_only = OFF"
    rm -f "$MAINTENANCE_DIR/$WRITES_PAUSED_FILE"
    retire_service "$REPLICA_TUNNEL_UNIT"
    rm -f "/etc/systemd/system/$REPLICA_TUNNEL_UNIT" "$password_file" "$source_env" "$REPLICATION_DIR/known_hosts"
    systemctl daemon-reload
    # A backup history of its own from here, from a dump of what this server now holds: in the
    # background, so that writes are taken at once.
    systemd-run --quiet --no-block --collect --unit="webstack-new-timeline-$(date -u +%s)" "$SHIP_BACKUPS_COMMAND" --new-timeline
    describe
    ;;
  *) fail "$usage" ;;
esac
