import { renderAppEnvironment } from "../files/appEnvironment";
import { ACTIVATE_COMMAND, APP_ENVIRONMENT_FILE, CURRENT_LINK } from "../layout";
import { RunStep } from "../plan";
import { runStepFrom, scriptBody } from "../script";

/** The app's own environment, from the plan's inputs: its script holds secrets, so executors keep it as one. */
export function appEnvironmentStep(): RunStep {
    return runStepFrom("app-environment", "appEnvironment", (environment) => ({
        description: `Write the app's environment: ${Object.keys(environment).sort().join(", ") || "no variables"}.`,
        settings: {
            APP_ENVIRONMENT_FILE,
            APP_ENVIRONMENT: renderAppEnvironment(environment),
            CURRENT_LINK,
            ACTIVATE_COMMAND,
        },
        body: scriptBody("app-environment"),
    }));
}
