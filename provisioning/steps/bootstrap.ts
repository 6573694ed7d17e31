import { RunStep, UPLOAD_DIR } from "../plan";
import { runStep, scriptBody } from "../script";

/** The first step on a fresh server: waits for the first boot to finish; prepares the upload directory. */
export function bootstrapStep(): RunStep {
    return runStep("bootstrap", {
        description: "Wait for the first boot to finish; prepare the upload directory.",
        settings: { UPLOAD_DIR },
        body: scriptBody("bootstrap"),
    });
}
