import { join } from "node:path";

/**
 * Where a sandbox keeps its things on the host, and the names it gives to kernel objects. Every
 * path and name is derived here from the sandbox's name, so that teardown finds exactly what
 * setup made.
 */

/** The cached base image (Debian trixie, minbase) that every server's overlay sits on. */
export const CACHE_DIR = "/var/cache/webstack-sandbox";
/** Runtime state: pids, addresses, keys, logs. One directory per sandbox, plus host-wide files. */
export const RUNTIME_DIR = "/run/webstack-sandbox";
/** The servers' disks: the overlay's upper and work directories and its mount point. */
const DATA_DIR = "/var/lib/webstack-sandbox";
/** Held while a process changes host-wide state (subnets, NAT), so that parallel sandboxes do not race. */
export const HOST_LOCK_FILE = join(RUNTIME_DIR, "host.lock");
/** What the host's ip_forward was before the first sandbox turned it on, restored by the last teardown. */
export const SAVED_IP_FORWARD_FILE = join(RUNTIME_DIR, "ip_forward.saved");
/** Where the host's memory controller is (a v1 hierarchy of the hybrid host): it can limit a whole server's memory. */
const MEMORY_CGROUP_ROOT = "/sys/fs/cgroup/memory";
/** The cgroup hierarchies a server's supervisor and guest live in (the host is hybrid: v1 named and memory, and v2). */
const CGROUP_ROOTS = ["/sys/fs/cgroup/unified", "/sys/fs/cgroup/systemd", MEMORY_CGROUP_ROOT] as const;

export const DEFAULT_SANDBOX_NAME = "default";
const SANDBOX_NAME = /^[a-z][a-z0-9-]{0,19}$/;

/** Throws an error naming the rule unless `name` can name a sandbox (it names a netns, a cgroup and the guest's host name). */
export function checkedSandboxName(name: string): string {
    if (!SANDBOX_NAME.test(name)) {
        throw new Error(
            `Sandbox name "${name}" must be 1 to 20 lowercase letters, digits or dashes, starting with a letter (for example "default").`,
        );
    }
    return name;
}

export interface SandboxPaths {
    /** Runtime directory: state.json, keys, logs, rendered configs. */
    readonly runtime: string;
    readonly stateFile: string;
    /** The per-sandbox ed25519 client key for `admin` (and `.pub`). */
    readonly clientKey: string;
    /** The server's pinned host keys. */
    readonly knownHosts: string;
    readonly supervisorScript: string;
    readonly supervisorPidFile: string;
    /** The guest's console and the supervisor's messages. */
    readonly consoleLog: string;
    readonly dnsmasqConfig: string;
    readonly dnsmasqPidFile: string;
    readonly dnsmasqLog: string;
    /** Disk directory holding the overlay's layers. */
    readonly data: string;
    readonly upperDir: string;
    readonly workDir: string;
    /** The server's root file system: the overlay of the base image and the upper directory. */
    readonly rootDir: string;
    /** The server's own cgroup in each hierarchy of {@link CGROUP_ROOTS}. */
    readonly cgroups: readonly string[];
    /** The one of those that limits the server's memory. */
    readonly memoryCgroup: string;
}

/** Every path of the sandbox `name`. */
export function sandboxPaths(name: string): SandboxPaths {
    const runtime = join(RUNTIME_DIR, checkedSandboxName(name));
    const data = join(DATA_DIR, name);
    return {
        runtime,
        stateFile: join(runtime, "state.json"),
        clientKey: join(runtime, "id_ed25519"),
        knownHosts: join(runtime, "known_hosts"),
        supervisorScript: join(runtime, "supervisor.sh"),
        supervisorPidFile: join(runtime, "supervisor.pid"),
        consoleLog: join(runtime, "console.log"),
        dnsmasqConfig: join(runtime, "dnsmasq.conf"),
        dnsmasqPidFile: join(runtime, "dnsmasq.pid"),
        dnsmasqLog: join(runtime, "dnsmasq.log"),
        data,
        upperDir: join(data, "upper"),
        workDir: join(data, "work"),
        rootDir: join(data, "root"),
        cgroups: CGROUP_ROOTS.map((root) => join(root, cgroupName(name))),
        memoryCgroup: join(MEMORY_CGROUP_ROOT, cgroupName(name)),
    };
}

/** What names the sandbox `name` on the host where other things are named too: its cgroup, its SSH key's comment. */
export function sandboxLabel(name: string): string {
    return `webstack-sandbox-${name}`;
}

/** The cgroup a sandbox's supervisor and server live in, under each of {@link CGROUP_ROOTS}. */
export function cgroupName(name: string): string {
    return sandboxLabel(name);
}

/** What names a fleet sandbox's (a fleet's) runtime directory, beside its servers' sandbox directories. */
export const FLEET_DIR_PREFIX = "fleet-";

/** Where a fleet sandbox (a fleet of servers on one subnet) keeps its own state. */
export function fleetRuntimeDir(name: string): string {
    return join(RUNTIME_DIR, `${FLEET_DIR_PREFIX}${checkedSandboxName(name)}`);
}

/** The file whose presence says that a fleet exists. */
export const FLEET_STATE_FILE = "fleet.json";

/** The guest's machine name and host name. */
export function guestHostName(name: string): string {
    return `sandbox-${name}`;
}
