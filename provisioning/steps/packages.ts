import { renderAutoUpgrades } from "../files/apt";
import { AUDIT_PACKAGES, renderFail2banJail, renderNeedrestartConfig } from "../files/hardening";
import { FAIL2BAN_JAIL_FILE, NEEDRESTART_CONFIG_FILE } from "../layout";
import { RunStep } from "../plan";
import { runStep, scriptBody } from "../script";

/** Debian packages the stack runs: web server, MariaDB, Node.js, the AWS CLI that ships the backups, and what keeps the server patched and closed. */
export const STACK_PACKAGES = [
    "nginx",
    "default-mysql-server",
    "nodejs",
    "curl",
    "ca-certificates",
    "unattended-upgrades",
    "ufw",
    "nftables",
    "logrotate",
    "awscli",
] as const;

/** Every package the plan installs: the stack's and the audit tools. */
export const SERVER_PACKAGES = [...STACK_PACKAGES, ...AUDIT_PACKAGES] as const;

/**
 * A fleet's server (the ha topology): the same without the database server, which is RDS, or the AWS
 * CLI that ships its backups, which RDS keeps; python3
 * reads AWS's JSON answers, and MariaDB's client makes the app's database user.
 */
export const FLEET_PACKAGES = [
    ...SERVER_PACKAGES.filter((name) => name !== "default-mysql-server" && name !== "awscli"),
    "python3",
    "mariadb-client",
] as const;

/** Prints the names of the installed packages with an update pending from Debian's security archive, one per line. */
export const PENDING_SECURITY_UPDATES_COMMAND = "apt-get -s -q upgrade 2>/dev/null | awk '/^Inst .*-security/ { print $2 }'";

/**
 * Every package at once, with the security updates pending since the image was built: one apt
 * transaction runs dpkg and each package's triggers once. The settings a package must start with
 * are written before it is installed.
 */
export function packagesStep(packages: readonly string[] = SERVER_PACKAGES): RunStep {
    return runStep("packages", {
        description: "Install every package the server runs, with the pending security updates, in one apt transaction.",
        settings: {
            PACKAGES: packages.join(" "),
            PENDING_SECURITY_UPDATES: PENDING_SECURITY_UPDATES_COMMAND,
            AUTO_UPGRADES: renderAutoUpgrades(),
            FAIL2BAN_JAIL_FILE,
            FAIL2BAN_JAIL: renderFail2banJail(),
            NEEDRESTART_CONFIG_FILE,
            NEEDRESTART_CONFIG: renderNeedrestartConfig(),
        },
        body: scriptBody("packages"),
    });
}
