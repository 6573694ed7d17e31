# shellcheck shell=bash
# Deploys RELEASE_ID from the uploaded ARTIFACT: unpacks it once, migrates the database before any
# instance runs it, then hands over to the activate command (switch and rolling restart), which
# returns to the serving release and fails the step when the new one never gets ready. Nothing
# happens when every instance already serves the release.
release_dir="$RELEASES_DIR/$RELEASE_ID"
if [[ ! -d "$release_dir" ]]; then
  [[ -f "$ARTIFACT" ]] || fail "the release artifact $ARTIFACT is missing; the upload step before this one copies it there."
  staging="$(mktemp -d "$RELEASES_DIR/.unpack.XXXXXX")"
  trap 'rm -rf "$staging"' EXIT
  # --touch: the tarball's times are all zero, and nginx's ETag and Last-Modified come from a file's
  # time, so a changed file of the same size would otherwise look unchanged to a browser's cache.
  (umask 022 && tar -xzf "$ARTIFACT" -C "$staging" --no-same-owner --no-same-permissions --touch)
  for entry in server.js migrate.js release.json; do
    [[ -e "$staging/$entry" ]] || fail "the release artifact $ARTIFACT has no $entry at its top level; build it with app/build.ts (buildRelease)."
  done
  printf 'RELEASE_ID=%s\n' "$RELEASE_ID" >"$staging/$RELEASE_ENV_NAME"
  chmod 755 "$staging"
  # The directory's time orders the releases for clean-up (the tarball's own times are all zero).
  touch "$staging"
  mv -T "$staging" "$release_dir"
  trap - EXIT
  echo "unpacked release $RELEASE_ID"
  mark_changed
fi

if ! "$ACTIVATE_COMMAND" --check "$RELEASE_ID"; then
  echo "migrating the database for release $RELEASE_ID"
  if ! run_migrations "$release_dir"; then
    fail "the migrations of release $RELEASE_ID failed (output above); the running release keeps serving. Fix the migration and deploy again."
  fi
  "$ACTIVATE_COMMAND" "$RELEASE_ID"
  mark_changed
fi

# The newest RELEASES_KEPT releases stay, and always the current and previous ones.
keep_current="$(readlink "$CURRENT_LINK")"
keep_previous="$(readlink "$PREVIOUS_LINK" || true)"
kept=0
while read -r release; do
  kept=$((kept + 1))
  if (( kept > RELEASES_KEPT )) && [[ "$release" != "$keep_current" && "$release" != "$keep_previous" ]]; then
    rm -rf "$release"
    echo "removed old release $(basename "$release")"
    mark_changed
  fi
done < <(find "$RELEASES_DIR" -mindepth 1 -maxdepth 1 -type d ! -name '.*' -printf '%T@ %p\n' | sort -rn | cut -d' ' -f2-)

while read -r upload; do
  rm -f "$upload"
  mark_changed
done < <(find "$UPLOAD_DIR" -maxdepth 1 -name "$ARTIFACT_PATTERN" ! -path "$ARTIFACT")
