import { Plan, validatePlan } from "./plan";
import { bootstrapStep } from "./steps/bootstrap";
import { nginxPackageStep } from "./steps/nginx";

export * from "./plan";

/** What the plan needs to know about the server it configures. */
export interface ServerSettings {
    /** The site's domain, for example example.com; the site is served as www.<domain>. */
    readonly domain: string;
}

/** The server's whole configuration, in the order it is applied. */
export function buildPlan(_settings: ServerSettings): Plan {
    return validatePlan([bootstrapStep(), nginxPackageStep()]);
}
