# shellcheck shell=bash
# Waits until cloud-init has finished when WAIT_FOR_CLOUD_INIT is yes (an EC2 boot still runs apt and
# writes sources when SSH first answers; a fleet's plan runs inside cloud-init's last stage, and its
# plan says no), and creates the upload directory for the SSH user, whom sudo names in SUDO_USER.
if [[ "$WAIT_FOR_CLOUD_INIT" == yes ]] && command -v cloud-init >/dev/null 2>&1; then
  cloud-init status --wait >/dev/null || true
fi
ensure_dir /var/lib/webstack 755 root:root
ensure_dir "$UPLOAD_DIR" 700 "${SUDO_USER:-root}:root"
