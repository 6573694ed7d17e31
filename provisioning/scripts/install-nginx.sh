# shellcheck shell=bash
ensure_packages nginx
ensure_service nginx
