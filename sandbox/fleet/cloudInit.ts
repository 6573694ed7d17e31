import type { ServerFile } from "../server/guest";
import { ensurePackageLayer, type PackageLayer } from "../server/imageLayer";

/**
 * What makes a fleet sandbox app server boot like an EC2 instance of the launch template: cloud-init,
 * installed once as an image layer over the base image (Debian's EC2 images ship it; the minbase
 * does not), and a NoCloud seed per server holding the launch template's user data unchanged.
 */

/** Where cloud-init finds a NoCloud seed without any kernel command line. */
export const NOCLOUD_SEED_DIR = "var/lib/cloud/seed/nocloud";
const SANDBOX_CLOUD_CONFIG = "etc/cloud/cloud.cfg.d/90-webstack-sandbox.cfg";

/**
 * cloud-init's settings in the sandbox: the NoCloud seed is the only data source; the sandbox has set
 * the network, host name and SSH keys (pinned by the CLI) already, so cloud-init leaves them alone,
 * and it touches no user.
 */
export function sandboxCloudConfig(): string {
    return [
        "# Written by the webstack fleet sandbox: the server's identity is the sandbox's; cloud-init runs the user data.",
        "datasource_list: [ NoCloud, None ]",
        "network: {config: disabled}",
        "preserve_hostname: true",
        "manage_etc_hosts: false",
        "ssh_deletekeys: false",
        "ssh_genkeytypes: []",
        "users: []",
        "disable_root: false",
        "growpart: {mode: 'off'}",
        "resize_rootfs: false",
        "apt: {preserve_sources_list: true}",
        "",
    ].join("\n");
}

/** The NoCloud seed of one server: the user data as given, and meta-data naming the instance. */
export function noCloudSeedFiles(userData: string, instanceId: string): ServerFile[] {
    return [
        { path: `${NOCLOUD_SEED_DIR}/user-data`, content: userData, mode: 0o600 },
        { path: `${NOCLOUD_SEED_DIR}/meta-data`, content: `instance-id: ${instanceId}\n`, mode: 0o600 },
        { path: SANDBOX_CLOUD_CONFIG, content: sandboxCloudConfig(), mode: 0o644 },
    ];
}

/** Debian's EC2 images ship cloud-init; the minbase does not. */
const CLOUD_INIT_LAYER: PackageLayer = { name: "cloud-init", packages: ["cloud-init"] };

/** The cached cloud-init layer over `baseImage`, built first if there is none. */
export function ensureCloudInitLayer(baseImage: string, log: (line: string) => void): Promise<string> {
    return ensurePackageLayer([baseImage], CLOUD_INIT_LAYER, log);
}
