# shellcheck shell=bash
# Every package the server runs and the security updates pending since its image was built, in one
# apt transaction: dpkg and each trigger run once (separate installs and unattended-upgrade took
# about half as long again). Later security updates are unattended-upgrades' daily job.

# The settings packages start with go in first: fail2ban's jail, needrestart's mode, and daily
# unattended upgrades. needrestart's and apt-listchanges' apt hooks are read when apt starts, so they
# take no part in the transaction that installs them.
fail2ban_was_running=no
if systemctl is-active --quiet fail2ban; then
  fail2ban_was_running=yes
fi
changes_before_jail="$(change_count)"
ensure_dir "$(dirname "$FAIL2BAN_JAIL_FILE")" 755 root:root
put_content "$FAIL2BAN_JAIL_FILE" 644 root:root "$FAIL2BAN_JAIL"
jail_changed=no
if changed_since "$changes_before_jail"; then
  jail_changed=yes
fi
ensure_dir "$(dirname "$NEEDRESTART_CONFIG_FILE")" 755 root:root
put_content "$NEEDRESTART_CONFIG_FILE" 644 root:root "$NEEDRESTART_CONFIG"
put_content /etc/apt/apt.conf.d/20auto-upgrades 644 root:root "$AUTO_UPGRADES"

read -ra package_names <<<"$PACKAGES"
pending_security_updates() { bash -c "$PENDING_SECURITY_UPDATES"; }
mapfile -t missing < <(missing_packages "${package_names[@]}")
# Lists from the last six hours are fresh enough to see pending updates.
refresh_package_lists 360
mapfile -t updates < <(pending_security_updates)
if (( ${#missing[@]} + ${#updates[@]} > 0 )); then
  # Downloading needs lists fresh enough that no package in them has been superseded meanwhile.
  if ! package_lists_fresh 10; then
    refresh_package_lists 10
    mapfile -t updates < <(pending_security_updates)
  fi
  # Naming an update marks it installed by hand; those that came in as dependencies stay automatic.
  automatic=()
  if (( ${#updates[@]} > 0 )); then
    echo "installing ${#updates[@]} pending security update(s): ${updates[*]}"
    mapfile -t automatic < <(apt-mark showauto "${updates[@]}")
  fi
  # An update keeps a configuration file this plan edited (login.defs) instead of asking.
  logged env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}" "${updates[@]}"
  if (( ${#automatic[@]} > 0 )); then
    apt-mark auto "${automatic[@]}" >/dev/null
  fi
  mark_changed
fi

ensure_service fail2ban
# A fail2ban that ran before this step still has the old jail.
if [[ "$fail2ban_was_running" == yes && "$jail_changed" == yes ]]; then
  systemctl reload-or-restart fail2ban
fi
