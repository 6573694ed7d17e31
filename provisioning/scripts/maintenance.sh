# shellcheck shell=bash
# webstack-maintenance and the page renderer it runs, installed; the site in maintenance with the
# message, or not, as the stack's config says (webstack:maintenance).
ensure_dir "$(dirname "$MAINTENANCE_RENDERER")" 755 root:root
put_content "$MAINTENANCE_RENDERER" 644 root:root "$MAINTENANCE_RENDERER_SCRIPT"
put_content "$MAINTENANCE_COMMAND" 755 root:root "$MAINTENANCE_SCRIPT"
if [[ "$MAINTENANCE" == on ]]; then
  maintenance_on "$MAINTENANCE_MESSAGE"
else
  maintenance_off
fi
