/**
 * webstack for any Pulumi program: `WebServer` (an EC2 server with its Elastic IP, DNS records,
 * snapshots and alerts, configured over SSH to run an app), `WebFleet` (the same app behind a load
 * balancer on an Auto Scaling group, with RDS: the ha topology) and `RemoteProvisioner` (a plan
 * applied to any SSH host), with what a program needs to release its app and build the plan. See the
 * README's "Use it in your own program".
 */
export { WEB_SERVER_DEFAULTS, WebServer, type WebServerArgs, type WebServerProvisioning } from "./webServer";
export { architectureOf } from "./ec2";
export { MAX_APP_SERVERS, MIN_APP_SERVERS, WEB_FLEET_DEFAULTS, WebFleet, type WebFleetArgs } from "./webFleet";
export { DEFAULT_SSH_USER, RemoteProvisioner, type RemoteProvisionerArgs, type SshConnectionArgs } from "./remoteProvisioner";
export {
    buildFleetPlan,
    buildPlan,
    type FleetServerSettings,
    LETS_ENCRYPT_DIRECTORY_URL,
    type Plan,
    type Release,
    type ServerSettings,
    type TlsSettings,
} from "../provisioning";
export { DEFAULT_APP_INSTANCES } from "../provisioning/layout";
export { siteUrl, wwwHostName } from "../provisioning/site";
export { buildRelease } from "../release/build";
export type { AppSource } from "../release/release";
export { POSTS_APP } from "../app/postsApp";
