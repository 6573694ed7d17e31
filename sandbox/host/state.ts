import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { LOGIN_USER } from "../server/baseImage";
import { withHostLock } from "./host";
import { FLEET_DIR_PREFIX, FLEET_STATE_FILE, RUNTIME_DIR, sandboxPaths, type SandboxPaths } from "./layout";
import { disableEgress, hostSubnetIndexes, sandboxNetwork, type SandboxNetwork } from "../network/network";
import type { SshTarget } from "./ssh";
import type { BackupBucket } from "../../provisioning/plan";
import type { PackageLayer } from "../server/imageLayer";

/**
 * What the host records of its sandboxes and fleets, one runtime directory each, and what follows
 * from that record: how to reach a sandbox, which subnets are taken, and whether the host's NAT is
 * still needed.
 */

/** What is recorded about a sandbox while it exists (state.json in its runtime directory). */
export interface SandboxState {
    readonly name: string;
    readonly subnetIndex: number;
    readonly domain: string;
    readonly supervisorPid?: number;
    readonly createdAt: string;
    /** A server on a shared subnet (the fleet sandbox) records its network; a sandbox of its own derives it from subnetIndex. */
    readonly network?: SandboxNetwork;
    /** The bucket in the sandbox's S3 that its server's backups go to; a fleet's servers have none. */
    readonly backupBucket?: BackupBucket;
    /** The packages its image had installed, so that a replacement server boots from the same image. */
    readonly preinstalled?: PackageLayer;
}

/** How to reach a running sandbox. */
export interface Sandbox {
    readonly name: string;
    readonly domain: string;
    readonly network: SandboxNetwork;
    /** The server's address. */
    readonly address: string;
    /** The sandbox's DNS server (its Route53): answers www.<domain> and <domain>. */
    readonly dnsServer: string;
    /** SSH as the login user, with the pinned host keys and the sandbox's client key. */
    readonly ssh: SshTarget;
    /** Where the server's backups go: the plan's backupBucket input. */
    readonly backupBucket?: BackupBucket;
}

/** The sandbox as seen from outside, from its state. */
export function describeSandbox(state: SandboxState, paths: SandboxPaths): Sandbox {
    const network = state.network ?? sandboxNetwork(state.name, state.subnetIndex);
    return {
        name: state.name,
        domain: state.domain,
        network,
        address: network.guestAddress,
        dnsServer: network.hostAddress,
        ssh: { host: network.guestAddress, user: LOGIN_USER, identityFile: paths.clientKey, knownHostsFile: paths.knownHosts },
        ...(state.backupBucket === undefined ? {} : { backupBucket: state.backupBucket }),
    };
}

/** The state of the sandbox `name`, or undefined when there is none. */
export function readState(name: string): SandboxState | undefined {
    return readJsonFile<SandboxState>(sandboxPaths(name).stateFile);
}

/** Records `state` in the sandbox's runtime directory, which it makes when missing. */
export function writeState(state: SandboxState): void {
    const paths = sandboxPaths(state.name);
    writeJsonFile(paths.runtime, paths.stateFile, state);
}

/** A state file the host wrote with {@link writeJsonFile}, or undefined when there is none. */
export function readJsonFile<T>(file: string): T | undefined {
    return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as T) : undefined;
}

/** Writes a state file into a runtime directory that only root may enter, made when missing. */
export function writeJsonFile(runtimeDir: string, file: string, content: unknown): void {
    mkdirSync(runtimeDir, { recursive: true, mode: 0o700 });
    writeFileSync(file, `${JSON.stringify(content, null, 2)}\n`);
}

/** The names of all sandboxes that have state on this host. */
export function listSandboxes(): string[] {
    if (!existsSync(RUNTIME_DIR)) {
        return [];
    }
    return readdirSync(RUNTIME_DIR).filter((entry) => existsSync(join(RUNTIME_DIR, entry, "state.json")));
}

/** The names of the fleet sandboxes (fleets) that have state on this host. */
export function listFleets(): string[] {
    return existsSync(RUNTIME_DIR)
        ? readdirSync(RUNTIME_DIR)
              .filter((entry) => entry.startsWith(FLEET_DIR_PREFIX) && existsSync(join(RUNTIME_DIR, entry, FLEET_STATE_FILE)))
              .map((entry) => entry.slice(FLEET_DIR_PREFIX.length))
        : [];
}

/** The subnet indexes a new sandbox or fleet may not take: the recorded sandboxes' and those of addresses on the host. Call it holding the host lock. */
export async function takenSubnetIndexes(): Promise<number[]> {
    return [...listSandboxes().map((other) => readState(other)?.subnetIndex ?? 0), ...(await hostSubnetIndexes())];
}

/** Whether any sandbox or fleet still has state on this host: the NAT table and ip_forward stay until none has. */
function egressInUse(): boolean {
    return listSandboxes().length > 0 || listFleets().length > 0;
}

/**
 * Removes the runtime directory of a sandbox or fleet, its record, under the host lock; the last
 * one to go removes the NAT table and restores ip_forward.
 */
export async function removeRuntimeDir(runtimeDir: string): Promise<void> {
    await withHostLock(async () => {
        rmSync(runtimeDir, { recursive: true, force: true });
        if (!egressInUse()) {
            await disableEgress();
        }
    });
}
