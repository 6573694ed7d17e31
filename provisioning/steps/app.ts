import { renderActivateCommand, renderRollbackCommand } from "../files/commands";
import { renderAppUnit, renderPreload } from "../files/systemd";
import {
    ACTIVATE_COMMAND,
    APP_ROOT,
    APP_UNIT_TEMPLATE,
    APP_USER,
    appPorts,
    CURRENT_LINK,
    MAX_APP_INSTANCES,
    RELEASES_DIR,
    ROLLBACK_COMMAND,
    SERVING_LINK,
    UNIX_SOCKET_PRELOAD,
    WATCHDOG_PRELOAD,
} from "../layout";
import { RunStep } from "../plan";
import { runStep, scriptBody } from "../script";

/** The app's user, release tree, deploy commands and instances. */
export function appStep(appInstances: number): RunStep {
    const wanted = appPorts(appInstances);
    const unwanted = appPorts(MAX_APP_INSTANCES).filter((port) => !wanted.includes(port));
    return runStep("app", {
        description: `Set up the app: ${appInstances} instance(s) on ports ${wanted.join(", ")}.`,
        settings: {
            APP_USER,
            APP_ROOT,
            RELEASES_DIR,
            CURRENT_LINK,
            SERVING_LINK,
            ACTIVATE_COMMAND,
            ACTIVATE_SCRIPT: renderActivateCommand(wanted),
            ROLLBACK_COMMAND,
            ROLLBACK_SCRIPT: renderRollbackCommand(),
            WATCHDOG_PRELOAD,
            WATCHDOG_PRELOAD_SCRIPT: renderPreload(WATCHDOG_PRELOAD),
            UNIX_SOCKET_PRELOAD,
            UNIX_SOCKET_PRELOAD_SCRIPT: renderPreload(UNIX_SOCKET_PRELOAD),
            APP_UNIT_TEMPLATE,
            APP_UNIT: renderAppUnit(),
            APP_PORTS: wanted.join(" "),
            RETIRED_PORTS: unwanted.join(" "),
        },
        body: scriptBody("app"),
    });
}
