# shellcheck shell=bash
# Usage: webstack-writes pause | resume | status
#   pause: the old server's side of a cut-over to a replacement. nginx answers every write with 503,
#     Retry-After and JSON that says to send it again (reads are served as ever), the writes already
#     let through finish, and the database turns read-only. Prints the database's last transaction
#     (its GTID position), which the replacement replays up to before it takes over
#     (webstack-replica promote). Again while paused: the same position.
#   resume: writes served again, for a cut-over called off.
#   status: "paused at GTID" or "served".
usage="usage: webstack-writes pause | resume | status"
(( $# == 1 )) || fail "$usage"
switch="$MAINTENANCE_DIR/$WRITES_PAUSED_FILE"
case "$1" in
  pause)
    ensure_dir "$MAINTENANCE_DIR" 755 root:root
    put_content "$switch" 644 root:root "paused"
    # A write nginx had let through reaches the database within moments; read-only then waits for
    # the transactions in flight to commit, and refuses the app any later write (a 503, retried).
    sleep 1
    sql "SET GLOBAL read_only = ON"
    sql "SELECT @@GLOBAL.gtid_binlog_pos"
    ;;
  resume)
    sql "SET GLOBAL read_only = OFF"
    rm -f "$switch"
    echo "writes served"
    ;;
  status)
    if [[ -f "$switch" ]]; then
      echo "paused at $(sql "SELECT @@GLOBAL.gtid_binlog_pos")"
    else
      echo "served"
    fi
    ;;
  *) fail "$usage" ;;
esac
