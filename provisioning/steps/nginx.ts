import { RunStep } from "../plan";
import { renderScript, scriptBody } from "../script";

/** Installs nginx from Debian and keeps it enabled and running. */
export function nginxPackageStep(): RunStep {
    return {
        kind: "run",
        name: "install-nginx",
        script: renderScript({ description: "Install nginx; enable and start it.", body: scriptBody("install-nginx") }),
    };
}
