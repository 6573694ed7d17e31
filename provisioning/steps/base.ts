import { SERVICE_OOM_SCORE_ADJUST } from "../capacity";
import { renderAccessLogRotation, renderLogrotateTimer } from "../files/logs";
import { renderJournaldConfig, renderJournaldUnitDropIn, renderNginxUnitDropIn } from "../files/systemd";
import {
    ACCESS_LOG_FILE,
    ACCESS_LOG_ROTATION_FILE,
    JOURNALD_CONFIG_FILE,
    JOURNALD_UNIT_DROP_IN,
    LOGROTATE_TIMER_DROP_IN,
    NGINX_UNIT_DROP_IN,
} from "../layout";
import { RunStep } from "../plan";
import { runStep, scriptBody } from "../script";

/** The only ports open to the world on a single server: SSH, HTTP, HTTPS. */
export const SERVER_FIREWALL_PORTS = [22, 80, 443] as const;
/** A fleet's server takes only the load balancer's HTTP: it terminates HTTPS, and nobody logs in. */
export const FLEET_FIREWALL_PORTS = [80] as const;

/** Firewall, bounded logs, and nginx and the journal restarted before MariaDB is touched when memory runs out. */
export function baseStep(firewallPorts: readonly number[] = SERVER_FIREWALL_PORTS): RunStep {
    return runStep("base", {
        description: "Turn on the firewall; bound the logs; order nginx and the journal before MariaDB for the OOM killer.",
        settings: {
            FIREWALL_PORTS: firewallPorts.join(" "),
            JOURNALD_CONFIG_FILE,
            JOURNALD_CONFIG: renderJournaldConfig(),
            JOURNALD_UNIT_DROP_IN,
            JOURNALD_UNIT_SETTINGS: renderJournaldUnitDropIn(),
            NGINX_UNIT_DROP_IN,
            NGINX_UNIT_SETTINGS: renderNginxUnitDropIn(),
            NGINX_OOM_SCORE_ADJUST: SERVICE_OOM_SCORE_ADJUST,
            ACCESS_LOG_DIR: ACCESS_LOG_FILE.slice(0, ACCESS_LOG_FILE.lastIndexOf("/")),
            ACCESS_LOG_ROTATION_FILE,
            ACCESS_LOG_ROTATION: renderAccessLogRotation(),
            LOGROTATE_TIMER_DROP_IN,
            LOGROTATE_TIMER: renderLogrotateTimer(),
        },
        body: scriptBody("base"),
    });
}
