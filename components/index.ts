/**
 * webstack for any Pulumi program: `WebServer` (an EC2 server with its Elastic IP, DNS records,
 * snapshots and alerts, configured over SSH by a provisioning plan) and `RemoteProvisioner` (a plan
 * applied to any SSH host), with what a program needs to build the plan. See the README's "Use it in
 * your own program".
 */
export { architectureOf, WEB_SERVER_DEFAULTS, WebServer, type WebServerArgs } from "./webServer";
export { DEFAULT_SSH_USER, RemoteProvisioner, type RemoteProvisionerArgs, type SshConnectionArgs } from "./remoteProvisioner";
export { buildPlan, LETS_ENCRYPT_DIRECTORY_URL, type Plan, type Release, type ServerSettings, type TlsSettings } from "../provisioning";
export { DEFAULT_APP_INSTANCES } from "../provisioning/layout";
export { siteUrl, wwwHostName } from "../provisioning/site";
export { buildRelease } from "../app/build";
