# shellcheck shell=bash
# Moving to a replacement server: webstack-replica and webstack-writes installed, and the account
# that a replacement's tunnel logs in as. sshd lets that account forward to the database's loopback
# port alone and run the grant alone (validated with sshd -t before it reloads); until a replacement's
# key is allowed (webstack-replica allow), no key opens it.
put_content "$REPLICA_COMMAND" 755 root:root "$REPLICA_SCRIPT"
put_content "$WRITES_COMMAND" 755 root:root "$WRITES_SCRIPT"
put_content "$REPLICATION_GRANT_COMMAND" 755 root:root "$REPLICATION_GRANT_SCRIPT"
if ! id -u "$REPLICATION_ACCOUNT" >/dev/null 2>&1; then
  useradd --system --user-group --create-home --home-dir "/var/lib/$REPLICATION_ACCOUNT" --shell /bin/sh "$REPLICATION_ACCOUNT"
  mark_changed
fi
# No password, and not locked: sshd takes the account's key, and nothing else logs in as it.
if [[ "$(getent shadow "$REPLICATION_ACCOUNT" | cut -d: -f2)" != "*" ]]; then
  usermod -p '*' "$REPLICATION_ACCOUNT"
  mark_changed
fi
changes_before_sudoers="$(change_count)"
put_content "$REPLICATION_SUDOERS_FILE" 440 root:root "$REPLICATION_SUDOERS"
if changed_since "$changes_before_sudoers" && ! visudo -c -q -f "$REPLICATION_SUDOERS_FILE"; then
  rm -f "$REPLICATION_SUDOERS_FILE"
  fail "sudo refused the replication account's rule (above); it was removed again."
fi
put_sshd_config "$REPLICATION_SSHD_DROP_IN" "$REPLICATION_SSHD"
