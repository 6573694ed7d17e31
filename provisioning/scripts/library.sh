# shellcheck shell=bash
# Helpers that every plan script gets (provisioning/script.ts puts them in front of its body).
# Each one probes before it changes anything and calls mark_changed only when it did change
# something; the script ends by printing "changed: N".
changed=0
mark_changed() { changed=$((changed + 1)); }

# put_file PATH MODE OWNER:GROUP < content   (MODE as stat prints it: 644, not 0644)
# Writes stdin to PATH only when content, mode or owner differ, atomically (rename). Sets
# file_changed to 1 when it wrote the file and 0 when it was already right, so that a caller can
# reload a service only when its configuration changed.
file_changed=0
put_file() {
  local path="$1" mode="$2" owner="$3" staged
  staged="$(mktemp "$(dirname "$path")/.put_file.XXXXXX")"
  cat > "$staged"
  if [[ -f "$path" ]] && cmp -s "$staged" "$path" \
     && [[ "$(stat -c '%a %U:%G' "$path")" == "$mode $owner" ]]; then
    rm -f "$staged"
    file_changed=0
    return 0
  fi
  chmod "$mode" "$staged"
  chown "$owner" "$staged"
  mv -f "$staged" "$path"
  file_changed=1
  mark_changed
}

# ensure_dir PATH MODE OWNER:GROUP
ensure_dir() {
  local path="$1" mode="$2" owner="$3"
  if [[ -d "$path" && "$(stat -c '%a %U:%G' "$path")" == "$mode $owner" ]]; then
    return 0
  fi
  install -d -m "$mode" -o "${owner%%:*}" -g "${owner##*:}" "$path"
  mark_changed
}

# ensure_packages NAME...: installs the packages that are not installed yet.
ensure_packages() {
  local missing=() package
  for package in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q '^install ok installed$'; then
      missing+=("$package")
    fi
  done
  if (( ${#missing[@]} > 0 )); then
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
    mark_changed
  fi
}

# ensure_service UNIT: enabled at boot and running now.
ensure_service() {
  local unit="$1"
  if ! systemctl is-enabled --quiet "$unit"; then
    systemctl enable --quiet "$unit"
    mark_changed
  fi
  if ! systemctl is-active --quiet "$unit"; then
    systemctl start "$unit"
    mark_changed
  fi
}

# reload_nginx: validates the configuration first; a broken configuration is never loaded.
reload_nginx() {
  nginx -t -q
  systemctl reload nginx
}
