/**
 * webstack for any Pulumi program: `WebServer` (an EC2 server with its Elastic IP, DNS records,
 * snapshots and alerts, configured over SSH to run an app) and `RemoteProvisioner` (a plan applied
 * to any SSH host), with what a program needs to release its app and build the plan. See the
 * README's "Use it in your own program".
 */
export { architectureOf, WEB_SERVER_DEFAULTS, WebServer, type WebServerArgs, type WebServerProvisioning } from "./webServer";
export { DEFAULT_SSH_USER, RemoteProvisioner, type RemoteProvisionerArgs, type SshConnectionArgs } from "./remoteProvisioner";
export { buildPlan, LETS_ENCRYPT_DIRECTORY_URL, type Plan, type Release, type ServerSettings, type TlsSettings } from "../provisioning";
export { DEFAULT_APP_INSTANCES } from "../provisioning/layout";
export { siteUrl, wwwHostName } from "../provisioning/site";
export { type AppSource, buildRelease, POSTS_APP } from "../app/build";
