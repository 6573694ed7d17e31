# shellcheck shell=bash
# The drift check, read-only: one line per step that recorded its files (record_owned_files), with
# tabs between the step's name, the files whose content differs from what the step put (or that
# are gone), joined by ", ", and the last repair its executor asked of it.
shopt -s nullglob
for record in "$STEP_RECORDS_DIR"/*.sha256; do
  step="$(basename "$record" .sha256)"
  drifted="$(sha256sum --check --quiet "$record" 2>/dev/null | sed -n 's/: FAILED.*$//p' | paste -sd ',' - | sed 's/,/, /g')" || true
  repair=""
  if [[ -f "$STEP_RECORDS_DIR/$step.repair" ]]; then
    repair="$(cat "$STEP_RECORDS_DIR/$step.repair")"
  fi
  printf '%s\t%s\t%s\n' "$step" "$drifted" "$repair"
done
