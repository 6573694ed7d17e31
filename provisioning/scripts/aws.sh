# shellcheck shell=bash
# Requests to AWS with the instance role's temporary credentials, which the instance metadata
# service (IMDSv2, at IMDS_ENDPOINT) hands out, signed by curl's --aws-sigv4 for REGION.

imds() {
  local token
  token="$(curl -sf --retry 5 -X PUT "$IMDS_ENDPOINT/latest/api/token" -H 'X-aws-ec2-metadata-token-ttl-seconds: 300')"
  curl -sf --retry 5 -H "X-aws-ec2-metadata-token: $token" "$IMDS_ENDPOINT/latest/meta-data/$1"
}

# load_role_credentials: the role's key id, secret and session token, in aws_credentials[0..2].
# In a new instance's first seconds the instance profile may not be attached yet, and the metadata
# service answers 404 for the role, which curl does not retry: that answer is asked again every
# second, for up to IMDS_ROLE_WAIT_SECONDS. A metadata service that does not answer at all fails at
# once (an app instance's start waits on this).
load_role_credentials() {
  local role="" status waited
  for (( waited = 0; waited < IMDS_ROLE_WAIT_SECONDS; waited++ )); do
    status=0
    role="$(imds iam/security-credentials/)" || status=$?
    # 22 is curl -f's "the server answered with an error": here, the 404 of a profile not attached yet.
    (( status == 22 )) || break
    sleep 1
  done
  if (( status != 0 )) || [[ -z "$role" ]]; then
    echo "the instance metadata service named no role (curl exit ${status}): is the instance profile attached?" >&2
    return 1
  fi
  mapfile -t aws_credentials < <(imds "iam/security-credentials/$role" |
    python3 -c 'import json, sys; c = json.load(sys.stdin); print(c["AccessKeyId"]); print(c["SecretAccessKey"]); print(c["Token"])')
  if (( ${#aws_credentials[@]} != 3 )); then
    echo "the instance metadata service gave no credentials for the role \"$role\"" >&2
    return 1
  fi
}

# aws_request SERVICE CURL_ARGUMENTS...: curl signed for SERVICE with the role's credentials.
aws_request() {
  local service="$1"
  shift
  curl -sf --retry 5 --aws-sigv4 "aws:amz:$REGION:$service" --user "${aws_credentials[0]}:${aws_credentials[1]}" \
    -H "x-amz-security-token: ${aws_credentials[2]}" "$@"
}
