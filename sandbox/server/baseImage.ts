import { createHash } from "node:crypto";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { runCommand, secondsSince } from "../host/exec";
import { CACHE_DIR } from "../host/layout";
import { unmountAllUnder } from "./mounts";

/**
 * The base image: a minimal Debian trixie made to look like Debian's EC2 image (user `admin` with
 * passwordless sudo, no machine id and no SSH host keys of its own, the standard apt sources), built
 * once with debootstrap and cached. Every server is an overlay on it.
 */

const DEBIAN_SUITE = "trixie";
const DEBIAN_MIRROR = "http://deb.debian.org/debian";
const DEBIAN_SECURITY_MIRROR = "http://deb.debian.org/debian-security";
/** What a cloud image has and the plan relies on; everything else the plan installs itself. */
const BASE_PACKAGES = ["systemd", "systemd-sysv", "dbus", "openssh-server", "ca-certificates", "curl", "sudo", "iproute2"] as const;
/** The login user of Debian's cloud images. */
export const LOGIN_USER = "admin";
/** The host's extra trusted CAs (HTTPS leaving this machine is intercepted), trusted in the guest too. */
const HOST_EXTRA_CA_DIR = "/usr/local/share/ca-certificates";
/** Written last: a base image without it is a broken build and is never used. */
const COMPLETE_MARKER = ".webstack-base-complete";

/** The debootstrap command line that builds the base into `target`. */
export function debootstrapArguments(target: string): string[] {
    return ["--variant=minbase", `--include=${BASE_PACKAGES.join(",")}`, DEBIAN_SUITE, target, DEBIAN_MIRROR];
}

/** A file the base image gets, relative to its root. */
export interface ImageFile {
    readonly path: string;
    readonly content: string;
    readonly mode: number;
}

/** apt's sources in deb822 form, as Debian's cloud images ship them. */
export function aptSources(): string {
    return [
        "Types: deb",
        `URIs: ${DEBIAN_MIRROR}`,
        `Suites: ${DEBIAN_SUITE} ${DEBIAN_SUITE}-updates`,
        "Components: main",
        "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg",
        "",
        "Types: deb",
        `URIs: ${DEBIAN_SECURITY_MIRROR}`,
        `Suites: ${DEBIAN_SUITE}-security`,
        "Components: main",
        "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg",
        "",
    ].join("\n");
}

/** /etc/hosts for a machine called `hostName`, so that sudo and others resolve it without DNS. */
export function hostsFile(hostName: string): string {
    return [
        "127.0.0.1\tlocalhost",
        `127.0.1.1\t${hostName}`,
        "::1\tlocalhost ip6-localhost ip6-loopback",
        "ff02::1\tip6-allnodes",
        "ff02::2\tip6-allrouters",
        "",
    ].join("\n");
}

/** The files that turn a debootstrap root into something like Debian's EC2 image. */
export function baseImageFiles(): ImageFile[] {
    return [
        { path: "etc/hostname", content: "debian\n", mode: 0o644 },
        { path: "etc/hosts", content: hostsFile("debian"), mode: 0o644 },
        // Empty: systemd gives each server its own id at first boot instead of every clone sharing one.
        { path: "etc/machine-id", content: "", mode: 0o444 },
        { path: "etc/apt/sources.list.d/debian.sources", content: aptSources(), mode: 0o644 },
        { path: `etc/sudoers.d/90-${LOGIN_USER}`, content: `${LOGIN_USER} ALL=(ALL) NOPASSWD:ALL\n`, mode: 0o440 },
        {
            path: "etc/ssh/sshd_config.d/50-cloud-image.conf",
            content: "PasswordAuthentication no\nKbdInteractiveAuthentication no\n",
            mode: 0o644,
        },
    ];
}

/** The commands run inside the new root (chroot) after the files are written. */
export function baseImageChrootCommands(): string[][] {
    return [
        ["useradd", "--create-home", "--shell", "/bin/bash", "--groups", "sudo", LOGIN_USER],
        ["update-ca-certificates"],
        ["apt-get", "clean"],
    ];
}

function writeImageFile(root: string, file: ImageFile): void {
    const path = join(root, file.path);
    mkdirSync(dirname(path), { recursive: true });
    rmSync(path, { force: true });
    writeFileSync(path, file.content);
    chmodSync(path, file.mode);
}

async function customize(root: string): Promise<void> {
    for (const file of baseImageFiles()) {
        writeImageFile(root, file);
    }
    rmSync(join(root, "etc/apt/sources.list"), { force: true });
    rmSync(join(root, "var/lib/dbus/machine-id"), { force: true });
    mkdirSync(join(root, "var/lib/dbus"), { recursive: true });
    symlinkSync("/etc/machine-id", join(root, "var/lib/dbus/machine-id"));
    // Each server gets host keys of its own; keys baked into the base would be shared by every clone.
    for (const entry of readdirSync(join(root, "etc/ssh"))) {
        if (entry.startsWith("ssh_host_")) {
            rmSync(join(root, "etc/ssh", entry));
        }
    }
    if (existsSync(HOST_EXTRA_CA_DIR)) {
        for (const entry of readdirSync(HOST_EXTRA_CA_DIR).filter((name) => name.endsWith(".crt"))) {
            copyFileSync(join(HOST_EXTRA_CA_DIR, entry), join(root, "usr/local/share/ca-certificates", entry));
        }
    }
    for (const command of baseImageChrootCommands()) {
        await runCommand("chroot", [root, ...command]);
    }
}

/**
 * Where the base image of the current recipe is cached: the directory name carries a hash of the
 * recipe, so a changed recipe builds a new image instead of reusing a stale one, and servers booted
 * on the old image keep their lower layer.
 */
export function baseImageDir(): string {
    const recipe = JSON.stringify([debootstrapArguments("ROOT"), baseImageFiles(), baseImageChrootCommands()]);
    return join(CACHE_DIR, `base-${DEBIAN_SUITE}-${createHash("sha256").update(recipe).digest("hex").slice(0, 12)}`);
}

/**
 * The cached base image, built first if there is none. It is built in a temporary directory and
 * renamed into place only when complete, so an interrupted build is never reused.
 */
export async function ensureBaseImage(log: (line: string) => void): Promise<string> {
    const imageDir = baseImageDir();
    if (existsSync(join(imageDir, COMPLETE_MARKER))) {
        return imageDir;
    }
    const startedAt = Date.now();
    const staging = `${imageDir}.tmp-${process.pid}`;
    log(`building the Debian ${DEBIAN_SUITE} base image with debootstrap (about a minute, cached in ${imageDir})`);
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(dirname(staging), { recursive: true });
    try {
        await runCommand("debootstrap", debootstrapArguments(staging));
        await customize(staging);
        writeFileSync(join(staging, COMPLETE_MARKER), `${new Date().toISOString()}\n`);
        if (existsSync(join(imageDir, COMPLETE_MARKER))) {
            // A parallel run finished first, and servers may already sit on its base: keep that one.
            rmSync(staging, { recursive: true, force: true });
            return imageDir;
        }
        // A base without the marker is left over from an older, broken build: it is replaced.
        rmSync(imageDir, { recursive: true, force: true });
        renameSync(staging, imageDir);
    } catch (error) {
        // debootstrap mounts /proc and /sys inside the target; an interrupted build can leave them.
        await unmountAllUnder(staging);
        rmSync(staging, { recursive: true, force: true });
        throw new Error(`Building the base image failed: ${(error as Error).message}`);
    }
    log(`base image built in ${secondsSince(startedAt)}`);
    return imageDir;
}
