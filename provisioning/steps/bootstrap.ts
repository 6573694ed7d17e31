import { RunStep, UPLOAD_DIR } from "../plan";
import { runStep, scriptBody } from "../script";

/**
 * The first step on a fresh server: waits for cloud-init to finish, unless the plan runs inside
 * cloud-init itself (a fleet's first boot, which must not wait for itself); prepares the upload directory.
 */
export function bootstrapStep(options: { waitForCloudInit: boolean }): RunStep {
    return runStep("bootstrap", {
        description: options.waitForCloudInit
            ? "Wait for the first boot to finish; prepare the upload directory."
            : "Prepare the upload directory (the plan runs inside the first boot).",
        settings: { UPLOAD_DIR, WAIT_FOR_CLOUD_INIT: options.waitForCloudInit ? "yes" : "no" },
        body: scriptBody("bootstrap"),
    });
}
