import { renderAutoUpgrades } from "../files/apt";
import { renderJournaldConfig } from "../files/systemd";
import { JOURNALD_CONFIG_FILE } from "../layout";
import { RunStep } from "../plan";
import { runStep, scriptBody } from "../script";

/** Debian packages the server runs: web server, MariaDB, Node.js, and what keeps the server safe. */
export const BASE_PACKAGES = ["nginx", "default-mysql-server", "nodejs", "curl", "ca-certificates", "unattended-upgrades", "ufw"] as const;

/** The only ports open to the world: SSH, HTTP, HTTPS. */
const FIREWALL_PORTS = [22, 80, 443] as const;

/** Packages, unattended security updates, firewall. */
export function baseStep(): RunStep {
    return runStep("base", {
        description: "Install the packages; turn on security updates and the firewall.",
        settings: {
            PACKAGES: BASE_PACKAGES.join(" "),
            AUTO_UPGRADES: renderAutoUpgrades(),
            FIREWALL_PORTS: FIREWALL_PORTS.join(" "),
            JOURNALD_CONFIG_FILE,
            JOURNALD_CONFIG: renderJournaldConfig(),
        },
        body: scriptBody("base"),
    });
}
