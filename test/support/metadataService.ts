import { METADATA_SERVICE_ADDRESSES } from "../../provisioning/files/hardening";

/**
 * What `user` on a server gets when it asks the instance metadata service for a session token, the
 * first call of every fetch of the role's credentials: `http 200 exit 0` when it answers, and
 * `http 000 exit 7` when the connection is refused.
 */
export async function metadataTokenOutcome(onServer: (command: string) => Promise<string>, user: string): Promise<string> {
    const ask = `curl -sS -m 5 -o /dev/null -w 'http %{http_code}' -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 60' http://${METADATA_SERVICE_ADDRESSES.ipv4}/latest/api/token`;
    // In an if, a refused connection is an answer to report, not a failure of the command.
    return (await onServer(`if runuser -u ${user} -- ${ask} 2>/dev/null; then echo " exit 0"; else echo " exit $?"; fi`)).trim();
}
