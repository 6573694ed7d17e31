# shellcheck shell=bash
# Usage: webstack-rollback
#   Makes the previously deployed release current again, with the same rolling restart as a deploy.
#   The database keeps its newer schema: migrations must leave it usable by the release before.
if ! previous="$(readlink "$PREVIOUS_LINK")" || [[ ! -d "$previous" ]]; then
  fail "there is no previous release to return to ($PREVIOUS_LINK is missing); deploy a release instead."
fi
exec "$ACTIVATE_COMMAND" "$(basename "$previous")"
