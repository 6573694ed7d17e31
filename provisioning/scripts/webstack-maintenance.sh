# shellcheck shell=bash
# Usage: webstack-maintenance on [--message TEXT] | off | status
#   on: nginx answers every request for the site with 503, Retry-After and the message (a page, or
#     JSON under /api/), except requests from MAINTENANCE_ALLOWED_CIDRS (webstack:maintenanceAllowedCidrs),
#     which get the site. At once, without a reload; again to change the message.
#   off: the site serves everyone again.
#   status: "on: MESSAGE" or "off", and the addresses that get the site during maintenance.
# A `pulumi up` that changes webstack:maintenance (or its message) sets the mode as the config says.
usage="usage: webstack-maintenance on [--message TEXT] | off | status"
case "${1:-}" in
  on)
    shift
    message="$DEFAULT_MAINTENANCE_MESSAGE"
    while (( $# > 0 )); do
      case "$1" in
        --message)
          (( $# >= 2 )) || fail "--message needs the text visitors read; $usage"
          message="$2"
          shift 2
          ;;
        *) fail "unknown argument \"$1\"; $usage" ;;
      esac
    done
    problem="$(maintenance_message_problem "$message")"
    [[ -z "$problem" ]] || fail "the message $problem."
    maintenance_on "$message"
    echo "maintenance on: visitors get 503 and the message${MAINTENANCE_ALLOWED_CIDRS:+, except from $MAINTENANCE_ALLOWED_CIDRS}; end it with: webstack-maintenance off"
    ;;
  off)
    (( $# == 1 )) || fail "$usage"
    maintenance_off
    echo "maintenance off: the site serves everyone"
    ;;
  status)
    (( $# == 1 )) || fail "$usage"
    if [[ -f "$MAINTENANCE_DIR/$MAINTENANCE_PAGE_FILE" ]]; then
      echo "on: $(maintenance_message)"
    else
      echo "off"
    fi
    echo "allowed during maintenance: ${MAINTENANCE_ALLOWED_CIDRS:-none}"
    ;;
  *) fail "$usage" ;;
esac
