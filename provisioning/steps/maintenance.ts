import { MAINTENANCE_SWITCH, renderMaintenanceCommand } from "../files/commands";
import { DEFAULT_MAINTENANCE_MESSAGE, renderMaintenanceRenderer, type MaintenanceSettings } from "../files/maintenance";
import { MAINTENANCE_COMMAND } from "../layout";
import { RunStep } from "../plan";
import { runStep, scriptBody } from "../script";

/** webstack-maintenance installed, and the site in maintenance or not, as the settings say. */
export function maintenanceStep(settings: MaintenanceSettings): RunStep {
    const enabled = settings.enabled ?? false;
    return runStep("maintenance", {
        description: enabled ? "Put the site in maintenance." : "Take the site out of maintenance.",
        settings: {
            ...MAINTENANCE_SWITCH.settings,
            MAINTENANCE_COMMAND,
            MAINTENANCE_SCRIPT: renderMaintenanceCommand(settings.allowedCidrs ?? []),
            MAINTENANCE_RENDERER_SCRIPT: renderMaintenanceRenderer(),
            MAINTENANCE: enabled ? "on" : "off",
            MAINTENANCE_MESSAGE: settings.message ?? DEFAULT_MAINTENANCE_MESSAGE,
        },
        body: `${MAINTENANCE_SWITCH.body}\n${scriptBody("maintenance")}`,
    });
}
