import { createHash } from "node:crypto";
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import type { ServerFile } from "../server/guest";
import { runCommand, secondsSince } from "../host/exec";
import { CACHE_DIR } from "../host/layout";
import { unmountAllUnder } from "../server/mounts";

/**
 * What makes a fleet sandbox app server boot like an EC2 instance of the launch template: cloud-init,
 * installed once as an image layer over the base image (Debian's EC2 images ship it; the minbase
 * does not), and a NoCloud seed per server holding the launch template's user data unchanged.
 */

/** Where cloud-init finds a NoCloud seed without any kernel command line. */
export const NOCLOUD_SEED_DIR = "var/lib/cloud/seed/nocloud";
const SANDBOX_CLOUD_CONFIG = "etc/cloud/cloud.cfg.d/90-webstack-sandbox.cfg";
const LAYER_PACKAGES = ["cloud-init"] as const;
const COMPLETE_MARKER = ".webstack-layer-complete";

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

/** The layer's cache directory for a base image: a new base or recipe builds a new layer. */
export function cloudInitLayerDir(baseImage: string): string {
    const recipe = JSON.stringify([basename(baseImage), LAYER_PACKAGES]);
    return join(CACHE_DIR, `layer-cloud-init-${createHash("sha256").update(recipe).digest("hex").slice(0, 12)}`);
}

/**
 * The cached cloud-init layer over `baseImage`, built first if there is none: apt installs the
 * packages into an overlay's upper directory (systemd-nspawn runs apt with the host's network), which
 * then is the layer. Built aside and renamed into place when complete.
 */
export async function ensureCloudInitLayer(baseImage: string, log: (line: string) => void): Promise<string> {
    const layerDir = cloudInitLayerDir(baseImage);
    if (existsSync(join(layerDir, COMPLETE_MARKER))) {
        return layerDir;
    }
    const startedAt = Date.now();
    log(`building the cloud-init image layer (about half a minute, cached in ${layerDir})`);
    const staging = `${layerDir}.tmp-${process.pid}`;
    const [upper, work, root] = ["upper", "work", "root"].map((part) => join(staging, part));
    rmSync(staging, { recursive: true, force: true });
    for (const directory of [upper, work, root]) {
        mkdirSync(directory, { recursive: true });
    }
    try {
        await runCommand("mount", ["-t", "overlay", "overlay", "-o", `lowerdir=${baseImage},upperdir=${upper},workdir=${work}`, root]);
        const install = `apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends ${LAYER_PACKAGES.join(" ")} && apt-get clean && rm -rf /var/lib/apt/lists/*`;
        await runCommand(
            "systemd-nspawn",
            ["--quiet", `--directory=${root}`, "--register=no", "--keep-unit", "--resolv-conf=copy-host", "bash", "-c", install],
            {
                env: { SYSTEMD_NSPAWN_UNIFIED_HIERARCHY: "1" },
            },
        );
        await unmountAllUnder(root);
        writeFileSync(join(upper, COMPLETE_MARKER), `${new Date().toISOString()}\n`);
        rmSync(layerDir, { recursive: true, force: true });
        renameSync(upper, layerDir);
        rmSync(staging, { recursive: true, force: true });
    } catch (error) {
        await unmountAllUnder(staging);
        rmSync(staging, { recursive: true, force: true });
        throw new Error(`Building the cloud-init layer failed: ${(error as Error).message}`);
    }
    log(`cloud-init layer built in ${secondsSince(startedAt)}`);
    return layerDir;
}
