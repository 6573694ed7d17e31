# shellcheck shell=bash
# Maintenance mode's switch, shared by the maintenance step and webstack-maintenance: the site is in
# maintenance while MAINTENANCE_DIR holds the page (nginx looks for it on every request). The API's
# answer is written before the page and removed after it, so that it is there whenever the page is.

# maintenance_message_problem MESSAGE: prints why the message cannot be shown (as
# provisioning/files/maintenance.ts's maintenanceMessageProblem says it), or nothing.
maintenance_message_problem() {
  local message="$1"
  if [[ -z "${message//[[:space:]]/}" ]]; then
    echo "is empty; say what visitors should know, for example \"$DEFAULT_MAINTENANCE_MESSAGE\""
  elif (( ${#message} > MAX_MAINTENANCE_MESSAGE_LENGTH )); then
    echo "is ${#message} characters long; at most $MAX_MAINTENANCE_MESSAGE_LENGTH fit the page"
  elif [[ "$message" =~ [[:cntrl:]] ]]; then
    echo "has a control character (a line break or a tab); write it on one line"
  fi
}

# maintenance_on MESSAGE: the page and the API's answer with the message.
maintenance_on() {
  local page answer
  answer="$(node "$MAINTENANCE_RENDERER" json "$1")"
  page="$(node "$MAINTENANCE_RENDERER" html "$1")"
  ensure_dir "$MAINTENANCE_DIR" 755 root:root
  put_content "$MAINTENANCE_DIR/$MAINTENANCE_ANSWER_FILE" 644 root:root "$answer"
  put_content "$MAINTENANCE_DIR/$MAINTENANCE_PAGE_FILE" 644 root:root "$page"
}

maintenance_off() {
  local file
  for file in "$MAINTENANCE_DIR/$MAINTENANCE_PAGE_FILE" "$MAINTENANCE_DIR/$MAINTENANCE_ANSWER_FILE"; do
    if [[ -e "$file" ]]; then
      rm -f "$file"
      mark_changed
    fi
  done
}

# maintenance_message: the message the site shows, when it is in maintenance.
maintenance_message() {
  node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).message)' \
    "$MAINTENANCE_DIR/$MAINTENANCE_ANSWER_FILE"
}
