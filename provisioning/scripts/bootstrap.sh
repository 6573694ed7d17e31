# shellcheck shell=bash
# Waits until cloud-init has finished (an EC2 boot still runs apt and writes sources when SSH first
# answers) and creates the upload directory for the SSH user, whom sudo names in SUDO_USER. At first
# boot the plan runs inside cloud-init's last stage (webstack-first-boot), which must not wait for itself.
if [[ "${WEBSTACK_FIRST_BOOT:-}" != yes ]] && command -v cloud-init >/dev/null 2>&1; then
  cloud-init status --wait >/dev/null || true
fi
ensure_dir /var/lib/webstack 755 root:root
ensure_dir "$UPLOAD_DIR" 700 "${SUDO_USER:-root}:root"
