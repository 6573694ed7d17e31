# shellcheck shell=bash
# A certificate for CERT_DOMAINS (space-separated) from the ACME server at TLS_DIRECTORY_URL, through HTTP-01
# challenges that nginx serves from ACME_WEBROOT on port 80. A certificate that is not due for
# renewal is kept; certbot's timer renews it, and the deploy hook reloads nginx after a renewal.
ensure_packages certbot
ensure_dir "$(dirname "$CERTBOT_DEPLOY_HOOK")" 755 root:root
put_content "$CERTBOT_DEPLOY_HOOK" 755 root:root "$DEPLOY_HOOK_SCRIPT"

domain_arguments=()
for name in $CERT_DOMAINS; do
  domain_arguments+=(--domain "$name")
done
issued_before="$(readlink -e "$CERTIFICATE" || true)"
certbot certonly --non-interactive --agree-tos --no-eff-email --email "$TLS_EMAIL" \
  --server "$TLS_DIRECTORY_URL" --webroot --webroot-path "$ACME_WEBROOT" \
  --cert-name "$CERT_NAME" "${domain_arguments[@]}" --keep-until-expiring
if [[ "$(readlink -e "$CERTIFICATE")" != "$issued_before" ]]; then
  echo "obtained a certificate for $CERT_DOMAINS"
  mark_changed
fi
ensure_service certbot.timer
