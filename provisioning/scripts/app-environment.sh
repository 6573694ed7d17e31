# shellcheck shell=bash
# The app's own environment, root-only since it holds secrets, never printed. When it changed, the
# instances restart one at a time to read it.
ensure_dir "$(dirname "$APP_ENVIRONMENT_FILE")" 755 root:root
changes_before_environment="$(change_count)"
put_content "$APP_ENVIRONMENT_FILE" 600 root:root "$APP_ENVIRONMENT"
unset APP_ENVIRONMENT
if changed_since "$changes_before_environment" && [[ -e "$CURRENT_LINK" ]]; then
  "$ACTIVATE_COMMAND" --restart-all "$(basename "$(readlink "$CURRENT_LINK")")"
fi
