import { createHash } from "node:crypto";
import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { runCommand, secondsSince } from "../host/exec";
import { CACHE_DIR } from "../host/layout";
import { unmountAllUnder } from "./mounts";

/**
 * Image layers: Debian packages installed once over an image's layers and cached, as a baked AMI
 * holds them. A server booted on a layer still runs every step of its plan; the packages step finds
 * its packages installed and only refreshes the lists and applies pending security updates.
 */

/** What a layer holds: packages installed with apt, named for its cache directory. */
export interface PackageLayer {
    readonly name: string;
    readonly packages: readonly string[];
}

const COMPLETE_MARKER = ".webstack-layer-complete";
/** While the layer is built, no package starts its service: nothing would stop it before the layer is kept. */
const POLICY_RC_D = "usr/sbin/policy-rc.d";

/** The layer's cache directory over `lowerDirs` (topmost first): another image below or other packages build another layer. */
export function packageLayerDir(lowerDirs: readonly string[], layer: PackageLayer): string {
    const recipe = JSON.stringify([lowerDirs.map((dir) => basename(dir)), [...layer.packages].sort()]);
    return join(CACHE_DIR, `layer-${layer.name}-${createHash("sha256").update(recipe).digest("hex").slice(0, 12)}`);
}

/** The shell command that installs the layer's packages inside its root and leaves no apt cache or lists behind. */
export function layerInstallCommand(packages: readonly string[]): string {
    return [
        `printf '#!/bin/sh\\nexit 101\\n' > /${POLICY_RC_D}`,
        `chmod 755 /${POLICY_RC_D}`,
        "apt-get update -q",
        `DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends ${packages.join(" ")}`,
        `rm /${POLICY_RC_D}`,
        "apt-get clean",
        "rm -rf /var/lib/apt/lists/*",
    ].join(" && ");
}

/** Builds in flight in this process: servers launched side by side wait for one build. */
const layersInFlight = new Map<string, Promise<string>>();

/**
 * The cached layer of `layer`'s packages over `lowerDirs`, built first if there is none: apt installs
 * them into an overlay's upper directory (systemd-nspawn runs apt with the host's network), which
 * then is the layer. Built aside and renamed into place when complete; a layer that servers may
 * already sit on is never replaced.
 */
export function ensurePackageLayer(lowerDirs: readonly string[], layer: PackageLayer, log: (line: string) => void): Promise<string> {
    const layerDir = packageLayerDir(lowerDirs, layer);
    if (existsSync(join(layerDir, COMPLETE_MARKER))) {
        return Promise.resolve(layerDir);
    }
    const inFlight = layersInFlight.get(layerDir) ?? buildPackageLayer(lowerDirs, layer, layerDir, log);
    layersInFlight.set(layerDir, inFlight);
    return inFlight.finally(() => layersInFlight.delete(layerDir));
}

async function buildPackageLayer(
    lowerDirs: readonly string[],
    layer: PackageLayer,
    layerDir: string,
    log: (line: string) => void,
): Promise<string> {
    const startedAt = Date.now();
    log(`building the ${layer.name} image layer (${layer.packages.length} packages, cached in ${layerDir})`);
    const staging = `${layerDir}.tmp-${process.pid}`;
    const [upper, work, root] = ["upper", "work", "root"].map((part) => join(staging, part));
    rmSync(staging, { recursive: true, force: true });
    for (const directory of [upper, work, root]) {
        mkdirSync(directory, { recursive: true });
    }
    try {
        await runCommand("mount", [
            "-t",
            "overlay",
            "overlay",
            "-o",
            `lowerdir=${lowerDirs.join(":")},upperdir=${upper},workdir=${work}`,
            root,
        ]);
        await runCommand(
            "systemd-nspawn",
            [
                "--quiet",
                `--directory=${root}`,
                "--register=no",
                "--keep-unit",
                "--resolv-conf=copy-host",
                "bash",
                "-c",
                layerInstallCommand(layer.packages),
            ],
            { env: { SYSTEMD_NSPAWN_UNIFIED_HIERARCHY: "1" } },
        );
        await unmountAllUnder(root);
        writeFileSync(join(upper, COMPLETE_MARKER), `${new Date().toISOString()}\n`);
        if (!existsSync(join(layerDir, COMPLETE_MARKER))) {
            // A layer without the marker is left over from an older, broken build: it is replaced.
            rmSync(layerDir, { recursive: true, force: true });
            renameSync(upper, layerDir);
        }
        rmSync(staging, { recursive: true, force: true });
    } catch (error) {
        await unmountAllUnder(staging);
        rmSync(staging, { recursive: true, force: true });
        throw new Error(`Building the ${layer.name} image layer failed: ${(error as Error).message}`);
    }
    log(`${layer.name} image layer built in ${secondsSince(startedAt)}`);
    return layerDir;
}

/** An image's layers (topmost first) with `layer` on top, built first if need be. */
export async function withPackageLayer(lowerDirs: readonly string[], layer: PackageLayer, log: (line: string) => void): Promise<string[]> {
    return [await ensurePackageLayer(lowerDirs, layer, log), ...lowerDirs];
}
