# shellcheck shell=bash
# The login user's authorized_keys: exactly AUTHORIZED_KEYS. A key rotation takes two runs: one with
# the new public key configured (both keys authorized, the steps still connecting with the old one),
# one with the new private key (the old one gone).
home="$(getent passwd "$SSH_USER" | cut -d: -f6)"
if [[ -z "$home" ]]; then
  fail "the login user $SSH_USER does not exist on this server; set webstack:sshUser to the image's login user."
fi
group="$(id -gn "$SSH_USER")"
ensure_dir "$home/.ssh" 700 "$SSH_USER:$group"
put_content "$home/.ssh/authorized_keys" 600 "$SSH_USER:$group" "$AUTHORIZED_KEYS"
