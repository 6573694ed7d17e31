import {
    formatMaintenanceWindow,
    renderRebootCommand,
    renderRebootService,
    renderRebootTimer,
    type MaintenanceWindow,
} from "../files/reboots";
import { REBOOT_COMMAND, REBOOT_TIMER, REBOOT_UNIT } from "../layout";
import { RunStep } from "../plan";
import { runStep, scriptBody } from "../script";

/** The reboot command installed, and its timer on in the maintenance window, or off without one. */
export function rebootsStep(window: MaintenanceWindow | undefined): RunStep {
    return runStep("reboots", {
        description:
            window === undefined
                ? "Never reboot by itself: a pending reboot is reported."
                : `Reboot when an update asks for it, after a fresh backup, in the maintenance window (${formatMaintenanceWindow(window)} UTC).`,
        settings: {
            REBOOT_COMMAND,
            REBOOT_SCRIPT: renderRebootCommand(),
            REBOOT_UNIT,
            REBOOT_SERVICE: renderRebootService(),
            REBOOT_TIMER,
            REBOOT_TIMER_UNIT: window === undefined ? "" : renderRebootTimer(window),
        },
        body: scriptBody("reboots"),
    });
}
