import { spawn } from "node:child_process";
import { chmodSync, chownSync, mkdirSync, openSync, closeSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { shellQuote } from "../../provisioning/script";
import { hostsFile, LOGIN_USER } from "./baseImage";
import { guestResolvConf } from "../network/dns";
import { runCommand } from "../host/exec";
import type { SandboxNetwork } from "../network/network";

/**
 * The server itself: its root file system (an overlay on the base image, whose upper directory
 * persists so that a guest reboot keeps its changes), its identity (host name, SSH host keys, the
 * login key) and the supervisor that boots it with systemd-nspawn and boots it again when it reboots.
 */

/** systemd-nspawn's exit code when the guest asked to reboot. */
const GUEST_REBOOT_EXIT_CODE = 133;

/** The systemd-nspawn arguments that boot the server at `rootDir` inside the sandbox's network namespace. */
export function nspawnArguments(options: { rootDir: string; hostName: string; netns: string }): string[] {
    return [
        "--quiet",
        `--directory=${options.rootDir}`,
        "--boot",
        `--machine=${options.hostName}`,
        // The host has neither systemd nor D-Bus as PID 1: no machined registration, no scope unit.
        "--register=no",
        "--keep-unit",
        `--network-namespace-path=/run/netns/${options.netns}`,
        // Next to the namespace path, this gives the guest CAP_NET_ADMIN (a firewall works inside).
        "--private-network",
        // The guest's resolv.conf is written per sandbox: it points at the sandbox's dnsmasq.
        "--resolv-conf=off",
        // Like root on an EC2 instance, systemd may lower a service's out-of-memory score (MariaDB's),
        // where the host's root has the capability to pass on.
        "--capability=CAP_SYS_RESOURCE",
        "--link-journal=no",
        "--console=read-only",
    ];
}

/**
 * The supervisor, a bash script started detached from the CLI. It moves itself into the server's
 * own cgroups first (so that each nspawn has a payload cgroup of its own), boots the guest, boots
 * it again when the guest reboots, and on SIGTERM passes the signal on to nspawn, which powers
 * the guest off cleanly.
 */
export function supervisorScript(options: { sandboxName: string; cgroups: readonly string[]; nspawnArguments: readonly string[] }): string {
    const cgroups = options.cgroups.map(shellQuote).join(" ");
    const nspawn = ["systemd-nspawn", ...options.nspawnArguments.map(shellQuote)].join(" ");
    return `#!/usr/bin/env bash
# Supervises the sandbox server ${shellQuote(options.sandboxName)}: boots it with systemd-nspawn and boots it
# again whenever the guest reboots (exit code ${GUEST_REBOOT_EXIT_CODE}); SIGTERM powers it off.
set -euo pipefail
for cgroup in ${cgroups}; do
  echo "$$" > "$cgroup/cgroup.procs"
done
# A clean cgroup v2 tree for the guest, although the host is hybrid.
export SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1
stopping=0
guest=0
stop_guest() {
  stopping=1
  if (( guest > 0 )); then
    kill -TERM "$guest" 2>/dev/null || true
  fi
}
trap stop_guest TERM INT
while :; do
  echo "supervisor: booting at $(date -Is)"
  ${nspawn} &
  guest=$!
  status=0
  wait "$guest" || status=$?
  # A trapped signal interrupts wait; wait again until nspawn has really exited.
  while kill -0 "$guest" 2>/dev/null; do
    status=0
    wait "$guest" || status=$?
  done
  echo "supervisor: systemd-nspawn exited with $status at $(date -Is)"
  if (( stopping )) || (( status != ${GUEST_REBOOT_EXIT_CODE} )); then
    break
  fi
done
`;
}

/** Starts the supervisor in a session of its own, so that it outlives the CLI; returns its pid. */
export function launchSupervisor(scriptPath: string, logPath: string): number {
    const log = openSync(logPath, "a");
    try {
        const child = spawn("bash", [scriptPath], { detached: true, stdio: ["ignore", log, log] });
        if (child.pid === undefined) {
            throw new Error(`Could not start the sandbox supervisor (${scriptPath}).`);
        }
        child.unref();
        return child.pid;
    } finally {
        closeSync(log);
    }
}

/** The uid and gid of `user` in a passwd file's text. */
export function passwdIds(passwd: string, user: string): { uid: number; gid: number } {
    const entry = passwd.split("\n").find((line) => line.startsWith(`${user}:`));
    if (!entry) {
        throw new Error(`User "${user}" is missing from the base image's /etc/passwd; delete the base image to rebuild it.`);
    }
    const [, , uid, gid] = entry.split(":");
    return { uid: Number(uid), gid: Number(gid) };
}

/** known_hosts lines pinning the server's host keys (`.pub` file texts) to its address. */
export function knownHostsLines(address: string, publicKeys: readonly string[]): string {
    return publicKeys
        .map((key) => key.trim().split(/\s+/).slice(0, 2).join(" "))
        .map((key) => `${address} ${key}\n`)
        .join("");
}

/** A file that each server gets in its own upper layer, relative to its root. */
export interface ServerFile {
    readonly path: string;
    readonly content: string;
    readonly mode: number;
}

/** The files that make a server of the base image this sandbox's server. */
export function serverFiles(options: { hostName: string; dnsServer: string; authorizedKey: string }): ServerFile[] {
    return [
        { path: "etc/hostname", content: `${options.hostName}\n`, mode: 0o644 },
        { path: "etc/hosts", content: hostsFile(options.hostName), mode: 0o644 },
        { path: "etc/resolv.conf", content: guestResolvConf(options.dnsServer), mode: 0o644 },
        { path: `home/${LOGIN_USER}/.ssh/authorized_keys`, content: options.authorizedKey, mode: 0o600 },
    ];
}

/**
 * Mounts the server's root (the overlay), writes its identity into it and returns the known_hosts
 * text that pins its freshly generated host keys. The client key must exist already.
 */
export async function prepareServerRoot(options: {
    /** The image's layers, topmost first: the base image last. */
    lowerDirs: readonly string[];
    upperDir: string;
    workDir: string;
    rootDir: string;
    hostName: string;
    network: SandboxNetwork;
    clientPublicKey: string;
    /** Files of this server's own besides its identity (a cloud-init seed, a CA to trust). Defaults to none. */
    extraFiles?: readonly ServerFile[];
    /** Run in the root (chroot) after the files are written, before the first boot. Defaults to none. */
    chrootCommands?: readonly string[][];
}): Promise<string> {
    const { rootDir } = options;
    for (const directory of [options.upperDir, options.workDir, rootDir]) {
        mkdirSync(directory, { recursive: true });
    }
    await runCommand("mount", [
        "-t",
        "overlay",
        "overlay",
        "-o",
        `lowerdir=${options.lowerDirs.join(":")},upperdir=${options.upperDir},workdir=${options.workDir}`,
        rootDir,
    ]);
    const login = passwdIds(readFileSync(join(rootDir, "etc/passwd"), "utf8"), LOGIN_USER);
    const identity = serverFiles({
        hostName: options.hostName,
        dnsServer: options.network.hostAddress,
        authorizedKey: options.clientPublicKey,
    });
    for (const file of [...identity, ...(options.extraFiles ?? [])]) {
        const path = join(rootDir, file.path);
        mkdirSync(dirname(path), { recursive: true });
        rmSync(path, { force: true });
        writeFileSync(path, file.content);
        chmodSync(path, file.mode);
    }
    const sshDir = join(rootDir, "home", LOGIN_USER, ".ssh");
    chmodSync(sshDir, 0o700);
    for (const path of [sshDir, join(sshDir, "authorized_keys")]) {
        chownSync(path, login.uid, login.gid);
    }
    for (const command of options.chrootCommands ?? []) {
        await runCommand("chroot", [rootDir, ...command]);
    }
    // Fresh host keys for this server only; `-f` makes ssh-keygen write them under the server's root.
    await runCommand("ssh-keygen", ["-A", "-f", rootDir]);
    const sshConfigDir = join(rootDir, "etc/ssh");
    const publicKeys = readdirSync(sshConfigDir)
        .filter((entry) => /^ssh_host_.*_key\.pub$/.test(entry))
        .sort()
        .map((entry) => readFileSync(join(sshConfigDir, entry), "utf8"));
    return knownHostsLines(options.network.guestAddress, publicKeys);
}

/** Creates the per-sandbox ed25519 client key for the login user; returns the public key line. */
export async function createClientKey(keyPath: string, comment: string): Promise<string> {
    rmSync(keyPath, { force: true });
    rmSync(`${keyPath}.pub`, { force: true });
    await runCommand("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", keyPath]);
    return readFileSync(`${keyPath}.pub`, "utf8");
}
