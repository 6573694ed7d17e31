import { METADATA_FIREWALL_FILE } from "../layout";

/**
 * The host's hardening, as files: what a security audit (Lynis) expects of a server that only SSH,
 * HTTP and HTTPS reach. Each setting is one that does not get in the way of the stack itself.
 */

/**
 * sshd, loaded before any other drop-in (sshd keeps the first value it reads, and cloud-init writes
 * its own at 50-): keys only, no root, no forwarding of any kind (the provisioner runs commands and
 * copies files, nothing else; a bastion forwards on the bastion), few tries and sessions, dead
 * clients dropped, and a verbose log that names the key each login used.
 */
export function renderSshdHardening(): string {
    return [
        "# Managed by webstack.",
        "PermitRootLogin no",
        "PasswordAuthentication no",
        "KbdInteractiveAuthentication no",
        "AllowTcpForwarding no",
        "AllowAgentForwarding no",
        "X11Forwarding no",
        "MaxAuthTries 3",
        "MaxSessions 2",
        "ClientAliveInterval 300",
        "ClientAliveCountMax 2",
        "TCPKeepAlive no",
        "LogLevel VERBOSE",
        "",
    ].join("\n");
}

/** What a login shows before the password prompt or key exchange: a notice that use is monitored. */
export const LOGIN_BANNER =
    "This system is for the use of authorized users only. Access and use are monitored and recorded; unauthorized access is prohibited and subject to criminal and civil penalties under applicable law. By continuing you consent to this policy.\n";

/** No core dumps for anyone: a dump of the app or the database would hold its secrets and data in a file. */
export function renderCoreDumpLimits(): string {
    return ["# Managed by webstack.", "* soft core 0", "* hard core 0", ""].join("\n");
}

/** Interactive shells that sit idle for 15 minutes log out (the provisioner's shells are not interactive). */
export function renderShellTimeout(): string {
    return ["# Managed by webstack.", "TMOUT=900", "readonly TMOUT", "export TMOUT", ""].join("\n");
}

/** Kernel modules a cloud web server never needs: removable storage, and network protocols nothing here speaks. */
export const DISABLED_KERNEL_MODULES = ["usb-storage", "firewire-core", "firewire-ohci", "dccp", "sctp", "rds", "tipc"] as const;

export function renderDisabledModules(): string {
    return [
        "# Managed by webstack: modules this server never loads.",
        ...DISABLED_KERNEL_MODULES.map((module) => `install ${module} /bin/false`),
        "",
    ].join("\n");
}

/**
 * Kernel settings of the audit's profile: no ICMP redirects sent or accepted, reverse-path
 * filtering, martians logged, no source routing; links and FIFOs protected in sticky directories;
 * kernel pointers and BPF hidden from unprivileged users. (A container's kernel lets only the
 * network ones change; EC2's applies all of them.)
 */
export const KERNEL_SETTINGS: Readonly<Record<string, number>> = {
    "net.ipv4.conf.all.send_redirects": 0,
    "net.ipv4.conf.default.send_redirects": 0,
    "net.ipv4.conf.all.accept_redirects": 0,
    "net.ipv4.conf.default.accept_redirects": 0,
    "net.ipv4.conf.all.accept_source_route": 0,
    "net.ipv4.conf.default.accept_source_route": 0,
    "net.ipv4.conf.all.rp_filter": 1,
    "net.ipv4.conf.default.rp_filter": 1,
    "net.ipv4.conf.all.log_martians": 1,
    "net.ipv4.conf.default.log_martians": 1,
    "net.ipv6.conf.all.accept_redirects": 0,
    "net.ipv6.conf.default.accept_redirects": 0,
    "fs.protected_fifos": 2,
    "fs.protected_regular": 2,
    "fs.protected_symlinks": 1,
    "fs.protected_hardlinks": 1,
    "kernel.kptr_restrict": 2,
    "kernel.unprivileged_bpf_disabled": 1,
    "kernel.core_uses_pid": 1,
    "dev.tty.ldisc_autoload": 0,
};

export function renderKernelSettings(): string {
    return ["# Managed by webstack.", ...Object.entries(KERNEL_SETTINGS).map(([key, value]) => `${key} = ${value}`), ""].join("\n");
}

/**
 * /etc/login.defs: passwords (unused here: logins are by key) would expire and be hashed slowly,
 * and new files of human users are not world-readable.
 */
export const LOGIN_DEFS: Readonly<Record<string, string>> = {
    PASS_MAX_DAYS: "365",
    PASS_MIN_DAYS: "1",
    UMASK: "027",
    SHA_CRYPT_MIN_ROUNDS: "5000",
    SHA_CRYPT_MAX_ROUNDS: "10000",
};

/**
 * Audit and patch tools, each small: debsums (package file checksums, weekly), apt-show-versions
 * and apt-listchanges (what an upgrade brings), needrestart (what still runs old libraries; it
 * lists, it does not restart), acct and sysstat (process and resource accounting), libpam-tmpdir
 * and libpam-passwdqc (per-user temporary directories, password strength), and fail2ban, which
 * bans an address after failed SSH logins ({@link renderFail2banJail}). Not apt-listbugs: it
 * asks Debian's bug tracker before every install and stops the install when it cannot, which would
 * hold back unattended security updates.
 */
export const AUDIT_PACKAGES = [
    "debsums",
    "apt-show-versions",
    "apt-listchanges",
    "needrestart",
    "acct",
    "sysstat",
    "libpam-tmpdir",
    "libpam-passwdqc",
    "fail2ban",
] as const;

/**
 * fail2ban's local settings (jail.local, which package updates leave alone): the sshd jail reads the
 * journal and bans an address for an hour after three failed logins in ten minutes. The provisioner
 * and deploy runs log in with their key on the first try, so they are never banned; behind the
 * security group this matters most when SSH is open wider (allowSshFromAnywhere).
 */
export function renderFail2banJail(): string {
    return [
        "# Managed by webstack.",
        "[sshd]",
        "enabled = true",
        "backend = systemd",
        "maxretry = 3",
        "findtime = 10m",
        "bantime = 1h",
        "",
    ].join("\n");
}

/** needrestart after an unattended upgrade: list what runs old code, restart nothing by itself (a restart is a deploy decision). */
export function renderNeedrestartConfig(): string {
    return ["# Managed by webstack.", "$nrconf{restart} = 'l';", ""].join("\n");
}

/** The instance metadata service, over IPv4 and (where an instance has it) IPv6. */
export const METADATA_SERVICE_ADDRESSES = { ipv4: "169.254.169.254", ipv6: "fd00:ec2::254" } as const;
const METADATA_FIREWALL_TABLE = "webstack_metadata";

/**
 * The instance role's credentials for root alone: every other user's connection to the metadata
 * service is refused at once (a reset, not a wait). The services that act as the role (backups,
 * metrics, a fleet's database credentials) run as root; the app's user, and anything that breaks
 * into it, gets no credentials, so neither the backup bucket nor the database's master secret.
 * Its own table, replaced whole on every load, beside ufw's.
 */
export function renderMetadataFirewall(): string {
    const table = `inet ${METADATA_FIREWALL_TABLE}`;
    return [
        "# Managed by webstack.",
        `table ${table}`,
        `delete table ${table}`,
        `table ${table} {`,
        "  chain output {",
        "    type filter hook output priority filter; policy accept;",
        `    ip daddr ${METADATA_SERVICE_ADDRESSES.ipv4} meta skuid != 0 counter reject with tcp reset`,
        `    ip6 daddr ${METADATA_SERVICE_ADDRESSES.ipv6} meta skuid != 0 counter reject with tcp reset`,
        "  }",
        "}",
        "",
    ].join("\n");
}

/** Loads the table at boot before the network, and again when the plan changes it. */
export function renderMetadataFirewallService(): string {
    return [
        "[Unit]",
        "Description=the instance metadata service for root alone",
        "DefaultDependencies=no",
        "Before=network-pre.target shutdown.target",
        "Wants=network-pre.target",
        "Conflicts=shutdown.target",
        "",
        "[Service]",
        "Type=oneshot",
        "RemainAfterExit=yes",
        `ExecStart=/usr/sbin/nft -f ${METADATA_FIREWALL_FILE}`,
        "",
        "[Install]",
        "WantedBy=sysinit.target",
        "",
    ].join("\n");
}
