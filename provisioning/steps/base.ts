import { renderAutoUpgrades } from "../files/apt";
import { renderAccessLogRotation, renderLogrotateTimer } from "../files/logs";
import { renderJournaldConfig } from "../files/systemd";
import { ACCESS_LOG_FILE, ACCESS_LOG_ROTATION_FILE, JOURNALD_CONFIG_FILE, LOGROTATE_TIMER_DROP_IN } from "../layout";
import { RunStep } from "../plan";
import { runStep, scriptBody } from "../script";

/** Debian packages the server runs: web server, MariaDB, Node.js, and what keeps the server safe. */
export const BASE_PACKAGES = ["nginx", "default-mysql-server", "nodejs", "curl", "ca-certificates", "unattended-upgrades", "ufw", "logrotate"] as const;

/** The only ports open to the world: SSH, HTTP, HTTPS. */
const FIREWALL_PORTS = [22, 80, 443] as const;

/** Packages, unattended security updates, firewall, bounded logs. */
export function baseStep(): RunStep {
    return runStep("base", {
        description: "Install the packages; turn on security updates and the firewall; bound the logs.",
        settings: {
            PACKAGES: BASE_PACKAGES.join(" "),
            AUTO_UPGRADES: renderAutoUpgrades(),
            FIREWALL_PORTS: FIREWALL_PORTS.join(" "),
            JOURNALD_CONFIG_FILE,
            JOURNALD_CONFIG: renderJournaldConfig(),
            ACCESS_LOG_DIR: ACCESS_LOG_FILE.slice(0, ACCESS_LOG_FILE.lastIndexOf("/")),
            ACCESS_LOG_ROTATION_FILE,
            ACCESS_LOG_ROTATION: renderAccessLogRotation(),
            LOGROTATE_TIMER_DROP_IN,
            LOGROTATE_TIMER: renderLogrotateTimer(),
        },
        body: scriptBody("base"),
    });
}
