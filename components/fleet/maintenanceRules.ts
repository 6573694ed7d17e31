import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import {
    DEFAULT_MAINTENANCE_MESSAGE,
    maintenanceProblems,
    renderMaintenanceAnswer,
    renderMaintenancePage,
    type MaintenanceSettings,
} from "../../provisioning/files/maintenance";
import type { ComponentContext } from "../context";

/**
 * Maintenance mode of a fleet, at its load balancer: rules on the HTTPS listener, in front of its
 * default forward, answer 503 with the page (JSON under /api/) to everyone but the allowed blocks. A
 * fixed response can carry no header of its own, so these 503s come without Retry-After; the app
 * servers, their health checks and the database carry on untouched.
 */

/** A listener rule's source-ip condition takes five blocks at most. */
const MAX_LOAD_BALANCER_ALLOWED_CIDRS = 5;

/** One rule of {@link maintenanceRules}: a name suffix, its priority and conditions, and a fixed answer (none: forward to the app servers). */
export interface MaintenanceRule {
    readonly suffix: string;
    readonly priority: number;
    readonly sourceIps?: readonly string[];
    readonly pathPatterns?: readonly string[];
    readonly answer?: { readonly contentType: "text/html" | "application/json"; readonly body: string };
}

/** The problem with more allowed blocks than a listener rule takes, `name` as the user wrote it; undefined when they fit. */
export function allowedCidrCountProblem(name: string, cidrs: readonly string[]): string | undefined {
    return cidrs.length > MAX_LOAD_BALANCER_ALLOWED_CIDRS
        ? `${name} has ${cidrs.length} blocks; the load balancer's rule takes ${MAX_LOAD_BALANCER_ALLOWED_CIDRS} at most: join them into wider blocks.`
        : undefined;
}

/** Throws unless the settings can be a load balancer's maintenance rules, naming the field and the rule. */
export function checkedFleetMaintenance(settings: MaintenanceSettings): MaintenanceSettings {
    const countProblem = allowedCidrCountProblem("maintenance.allowedCidrs", settings.allowedCidrs ?? []);
    const problems = [...maintenanceProblems(settings), ...(countProblem === undefined ? [] : [countProblem])];
    if (problems.length > 0) {
        throw new Error(problems.join(" "));
    }
    return settings;
}

/** The listener rules for the settings: none when maintenance is off; the allowed blocks first, then the API's answer, then the page. */
export function maintenanceRules(settings: MaintenanceSettings): MaintenanceRule[] {
    if (!(settings.enabled ?? false)) {
        return [];
    }
    const message = settings.message ?? DEFAULT_MAINTENANCE_MESSAGE;
    const allowed = settings.allowedCidrs ?? [];
    return [
        ...(allowed.length > 0 ? [{ suffix: "maintenance-allowed", priority: 1, sourceIps: allowed }] : []),
        {
            suffix: "maintenance-api",
            priority: 2,
            pathPatterns: ["/api/*"],
            answer: { contentType: "application/json", body: renderMaintenanceAnswer(message) },
        },
        {
            suffix: "maintenance",
            priority: 3,
            pathPatterns: ["/*"],
            answer: { contentType: "text/html", body: renderMaintenancePage(message) },
        },
    ];
}

/** The rules of {@link maintenanceRules} on the listener. */
export function declareMaintenanceRules(
    context: ComponentContext,
    site: {
        readonly listenerArn: pulumi.Input<string>;
        readonly targetGroupArn: pulumi.Input<string>;
        readonly settings: MaintenanceSettings;
    },
): aws.lb.ListenerRule[] {
    return maintenanceRules(site.settings).map(
        (rule) =>
            new aws.lb.ListenerRule(
                `${context.name}-${rule.suffix}`,
                {
                    listenerArn: site.listenerArn,
                    priority: rule.priority,
                    conditions: [
                        ...(rule.sourceIps ? [{ sourceIp: { values: [...rule.sourceIps] } }] : []),
                        ...(rule.pathPatterns ? [{ pathPattern: { values: [...rule.pathPatterns] } }] : []),
                    ],
                    actions: [
                        rule.answer
                            ? {
                                  type: "fixed-response",
                                  fixedResponse: { statusCode: "503", contentType: rule.answer.contentType, messageBody: rule.answer.body },
                              }
                            : { type: "forward", targetGroupArn: site.targetGroupArn },
                    ],
                    tags: context.tagsFor(rule.suffix),
                },
                { parent: context.parent },
            ),
    );
}
