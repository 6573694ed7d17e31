import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { renderHostKeyUserData, type HostKeyPair } from "../components/server/hostKey";
import { ensureBaseImage } from "./server/baseImage";
import { bootServer, waitForSsh, type ServerImage } from "./server/boot";
import { ensureCloudInitLayer, noCloudSeedFiles } from "./fleet/cloudInit";
import { withPackageLayer, type PackageLayer } from "./server/imageLayer";
import { SERVER_PACKAGES } from "../provisioning/steps/packages";
import { knownHostsLines } from "./server/guest";
import { killAndRemoveCgroups, processInCgroup } from "./server/cgroups";
import {
    DEFAULT_DOMAIN,
    resolvConfNameservers,
    checkedSandboxDomain,
    restartDnsServer,
    startDnsServer,
    stopDnsServer,
} from "./network/dns";
import { runCommand } from "./host/exec";
import { ensureHostPackages, isProcessAlive, requireRootOnLinux, withHostLock } from "./host/host";
import { cgroupName, sandboxPaths, checkedSandboxName } from "./host/layout";
import { unmountAllUnder } from "./server/mounts";
import { allocateSubnetIndex, namespaceName, createNetwork, enableEgress, removeNetwork, sandboxNetwork } from "./network/network";
import { sandboxAwsHostRecords, sandboxBackupBucket, startSandboxAws, stopSandboxAws, prepareServerForSandboxAws } from "./objectStore/aws";
import {
    describeSandbox,
    readState,
    removeRuntimeDir,
    takenSubnetIndexes,
    writeState,
    type Sandbox,
    type SandboxState,
} from "./host/state";

/**
 * One sandbox: a Debian server booted with systemd-nspawn in a network namespace of its own, its
 * DNS server, the AWS it reaches (S3 with its backup bucket, and the metadata service), and the
 * host's NAT for its apt. Start and destroy sandboxes by name, and tell whether
 * one runs; several can run at once.
 */

export interface StartOptions {
    /** Defaults to "default". */
    readonly name?: string;
    /** The apex domain the sandbox's DNS answers for. Defaults to webstack.test. */
    readonly domain?: string;
    /** Progress lines. Defaults to console.log. */
    readonly log?: (line: string) => void;
    /** Hold the server to this much memory, without swap, as on an instance of that size (1024 for a t3.micro). Defaults to the host's. */
    readonly memoryLimitMiB?: number;
    /**
     * Launch the server as WebServer launches an instance: cloud-init installs this SSH host key
     * from the user data the component renders, and the sandbox pins it. Defaults to a key the
     * sandbox makes in the image.
     */
    readonly hostKey?: HostKeyPair;
    /**
     * Boot from an image that has these packages installed already, as a baked AMI has (the plan
     * still runs every step; its packages step then only applies pending updates). For suites that
     * test the running stack rather than its installation. Defaults to none: the bare image.
     */
    readonly preinstalled?: PackageLayer;
}

/** The plan's packages, for {@link StartOptions.preinstalled}. */
export const SERVER_PACKAGES_LAYER: PackageLayer = { name: "server-packages", packages: SERVER_PACKAGES };

/**
 * How a new sandbox's server is launched: the base image, or, with the stack's host key, the
 * cloud-init layer and the user data; with preinstalled packages, their layer on top.
 */
async function launchImage(
    name: string,
    options: Pick<StartOptions, "memoryLimitMiB" | "hostKey" | "preinstalled">,
    log: (line: string) => void,
): Promise<ServerImage> {
    const baseImage = await ensureBaseImage(log);
    const imageLayers = options.hostKey === undefined ? [baseImage] : [await ensureCloudInitLayer(baseImage, log), baseImage];
    const lowerDirs = options.preinstalled === undefined ? imageLayers : await withPackageLayer(imageLayers, options.preinstalled, log);
    if (options.hostKey === undefined) {
        return { lowerDirs, memoryLimitMiB: options.memoryLimitMiB };
    }
    return {
        lowerDirs,
        memoryLimitMiB: options.memoryLimitMiB,
        extraFiles: noCloudSeedFiles(renderHostKeyUserData(options.hostKey), `i-sandbox-${name}`),
        // The keys the image was made with are gone once cloud-init has run: the boot is watched through the console.
        sshClosed: true,
    };
}

export interface StartResult extends Sandbox {
    /** True when a running sandbox of that name was reused rather than booted. */
    readonly reused: boolean;
}

/** True when the sandbox's supervisor is alive (checked through its cgroup, so a reused pid does not count). */
export function isSandboxRunning(state: SandboxState): boolean {
    const pid = state.supervisorPid;
    if (pid === undefined || !isProcessAlive(pid)) {
        return false;
    }
    try {
        return processInCgroup(readFileSync(`/proc/${pid}/cgroup`, "utf8"), cgroupName(state.name));
    } catch {
        return false;
    }
}

/** The sandbox `name` when its server runs; undefined when it was never started or has stopped. */
export function runningSandbox(name: string): Sandbox | undefined {
    const state = readState(name);
    return state && isSandboxRunning(state) ? describeSandbox(state, sandboxPaths(name)) : undefined;
}

async function bootNewSandbox(
    name: string,
    domain: string,
    options: Pick<StartOptions, "memoryLimitMiB" | "hostKey" | "preinstalled">,
    log: (line: string) => void,
): Promise<Sandbox> {
    const paths = sandboxPaths(name);
    const image = await launchImage(name, options, log);
    const state: SandboxState = await withHostLock(async () => {
        const taken = await takenSubnetIndexes();
        const allocated: SandboxState = {
            name,
            subnetIndex: allocateSubnetIndex(taken),
            domain,
            createdAt: new Date().toISOString(),
            backupBucket: sandboxBackupBucket(name),
            ...(options.preinstalled === undefined ? {} : { preinstalled: options.preinstalled }),
        };
        // Recorded before anything is made, so that a failure half-way can be torn down.
        writeState(allocated);
        const network = sandboxNetwork(name, allocated.subnetIndex);
        await createNetwork(network);
        await enableEgress();
        await startDnsServer(paths.dnsmasqConfig, {
            domain,
            listenAddress: network.hostAddress,
            serverAddress: network.guestAddress,
            hostRecords: sandboxAwsHostRecords(network, sandboxBackupBucket(name)),
            upstreamResolvers: resolvConfNameservers(readFileSync("/etc/resolv.conf", "utf8")),
            pidFile: paths.dnsmasqPidFile,
            logFile: paths.dnsmasqLog,
        });
        return allocated;
    });
    await startSandboxAws(sandboxNetwork(name, state.subnetIndex), paths, sandboxBackupBucket(name), log);
    const sandbox = await bootServer(state, image, log);
    if (options.hostKey !== undefined) {
        writeFileSync(paths.knownHosts, knownHostsLines(sandbox.address, [options.hostKey.publicKeyOpenssh]));
    }
    await prepareServerForSandboxAws(sandbox.ssh, paths);
    return sandbox;
}

/**
 * Boots the sandbox `name`, or reuses it when it is running already. Anything left of a sandbox of
 * that name that is not running (a crashed server, a host reboot) is torn down first. A failed
 * boot leaves nothing behind.
 */
export async function startSandbox(options: StartOptions = {}): Promise<StartResult> {
    const name = checkedSandboxName(options.name ?? "default");
    const domain = checkedSandboxDomain(options.domain ?? DEFAULT_DOMAIN);
    const log = options.log ?? console.log;
    requireRootOnLinux();
    await ensureHostPackages(log);
    const existing = readState(name);
    if (existing && isSandboxRunning(existing)) {
        if (existing.domain !== domain) {
            throw new Error(
                `Sandbox "${name}" is running for domain ${existing.domain}, not ${domain}; destroy it first (npm run sandbox -- destroy).`,
            );
        }
        const sandbox = describeSandbox(existing, sandboxPaths(name));
        await waitForSsh(sandbox, sandboxPaths(name).consoleLog, existing.supervisorPid ?? 0);
        return { ...sandbox, reused: true };
    }
    if (existing || existsSync(sandboxPaths(name).runtime) || existsSync(sandboxPaths(name).data)) {
        log(`removing what is left of sandbox "${name}"`);
        await destroySandbox(name, log);
    }
    try {
        return { ...(await bootNewSandbox(name, domain, options, log)), reused: false };
    } catch (error) {
        await destroySandbox(name, () => undefined);
        throw error;
    }
}

/**
 * Removes everything the sandbox `name` made: the server (every process killed), its cgroups, overlay and disk, its DNS server, network namespace and veth pair; and the
 * NAT table and ip_forward setting when no other sandbox remains. Destroying what does not exist
 * is fine. Returns false when there was nothing to destroy.
 */
export async function destroySandbox(name: string, log: (line: string) => void = console.log): Promise<boolean> {
    requireRootOnLinux();
    const paths = sandboxPaths(name);
    const state = readState(name);
    const exists =
        state !== undefined || existsSync(paths.runtime) || existsSync(paths.data) || paths.cgroups.some((cgroup) => existsSync(cgroup));
    // Killed, not shut down: the disk goes next, so a clean shutdown (up to 20 s of stopping
    // services) would save nothing.
    await killAndRemoveCgroups(paths.cgroups);
    await stopDnsServer(paths.dnsmasqPidFile);
    if (state?.backupBucket !== undefined) {
        await stopSandboxAws(sandboxNetwork(name, state.subnetIndex), paths);
    }
    await unmountAllUnder(paths.rootDir);
    rmSync(paths.data, { recursive: true, force: true });
    if (state) {
        await removeNetwork(state.network ?? sandboxNetwork(name, state.subnetIndex));
    } else {
        await runCommand("ip", ["netns", "delete", namespaceName(name)], { allowFailure: true });
    }
    await removeRuntimeDir(paths.runtime);
    if (exists) {
        log(`sandbox "${name}" destroyed`);
    }
    return exists;
}

/**
 * Loses the sandbox's server as an EC2 instance and its disk are lost, without warning (every process
 * killed, the disk and the network namespace gone), and boots a new server in its place: the same
 * name and address, an empty disk from the image it was started on, host keys of its own. What is not the server
 * stays, as it does on AWS: its DNS, its S3 with every backup, its metadata service. The caller then
 * applies the plan, as `pulumi up` does to a replacement instance.
 */
export async function replaceServer(name: string, log: (line: string) => void = console.log): Promise<Sandbox> {
    requireRootOnLinux();
    const state = readState(name);
    if (state === undefined || state.backupBucket === undefined) {
        throw new Error(`Sandbox "${name}" does not exist, or is a fleet's server; start it first (npm run sandbox).`);
    }
    const paths = sandboxPaths(name);
    const network = sandboxNetwork(name, state.subnetIndex);
    await killAndRemoveCgroups(paths.cgroups);
    await unmountAllUnder(paths.rootDir);
    rmSync(paths.data, { recursive: true, force: true });
    await removeNetwork(network);
    log(`sandbox "${name}": server lost (processes killed, disk and network gone)`);
    await createNetwork(network);
    await restartDnsServer(paths.dnsmasqConfig, paths.dnsmasqPidFile);
    const sandbox = await bootServer(state, await launchImage(name, { preinstalled: state.preinstalled }, log), log);
    await prepareServerForSandboxAws(sandbox.ssh, paths);
    return sandbox;
}
