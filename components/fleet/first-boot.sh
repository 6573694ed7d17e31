# shellcheck shell=bash
# A fleet server applies its plan at first boot, with nobody's SSH: the index (INDEX_KEY at
# INDEX_VERSION_ID, checked against INDEX_SHA256) lists the plan's steps in order as objects of the
# fleet's bucket, each at the version this plan wrote. An upload is fetched to its path; a run step
# is fetched and run as root. Every object is checked against its hash, and the first failure stops
# the boot's plan: the server then never passes the load balancer's health check, and Auto Scaling
# replaces it.

say() { echo "webstack first boot: $*" >&2; }
trap 'say "failed (above); this server will not serve, and Auto Scaling replaces it once its health check fails"' ERR

load_role_credentials

# fetch KEY VERSION SHA256 DEST: that version of the bucket's object KEY, to DEST, only if its
# content has that hash.
fetch() {
  local key="$1" version="$2" sha256="$3" destination="$4" encoded_version
  encoded_version="$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$version")"
  mkdir -p "$(dirname "$destination")"
  aws_request s3 -o "$destination.part" "$S3_ENDPOINT/$key?versionId=$encoded_version"
  if ! echo "$sha256  $destination.part" | sha256sum --check --quiet --status; then
    rm -f "$destination.part"
    say "$key (version $version) does not have the SHA-256 the plan gave it ($sha256)"
    return 1
  fi
  mv "$destination.part" "$destination"
}

install -d -m 700 "$WORK_DIR"
fetch "$INDEX_KEY" "$INDEX_VERSION_ID" "$INDEX_SHA256" "$WORK_DIR/index"
step_number=0
while read -r kind name key version sha256 path; do
  step_number=$((step_number + 1))
  case "$kind" in
    upload)
      fetch "$key" "$version" "$sha256" "$path"
      say "uploaded $name"
      ;;
    run)
      script="$WORK_DIR/$(printf '%02d' "$step_number")-$name.sh"
      fetch "$key" "$version" "$sha256" "$script"
      say "running $name"
      bash "$script" </dev/null
      ;;
    *)
      say "the index has a step of unknown kind \"$kind\" ($name)"
      exit 1
      ;;
  esac
done <"$WORK_DIR/index"
say "every step applied"
