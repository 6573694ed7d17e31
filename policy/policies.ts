/**
 * The webstack policy pack's rules, as pure functions of what CrossGuard hands a policy: a
 * resource's type, name, URN and properties (its inputs for resource policies, its outputs for
 * stack policies). `webstackPolicies` wraps them into the Policy objects the pack serves, so the
 * same code runs under the Pulumi CLI and in the unit tests.
 *
 * The pack is self-contained (it imports nothing from the program) so that it also works when it is
 * published to Pulumi Cloud on its own with `pulumi policy publish`.
 */
import type { Policies, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";

export const TYPES = {
    securityGroup: "aws:ec2/securityGroup:SecurityGroup",
    securityGroupRule: "aws:ec2/securityGroupRule:SecurityGroupRule",
    ingressRule: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    keyPair: "aws:ec2/keyPair:KeyPair",
    instance: "aws:ec2/instance:Instance",
    eip: "aws:ec2/eip:Eip",
    record: "aws:route53/record:Record",
    role: "aws:iam/role:Role",
    snapshotPolicy: "aws:dlm/lifecyclePolicy:LifecyclePolicy",
    alarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
    topic: "aws:sns/topic:Topic",
    healthCheck: "aws:route53/healthCheck:HealthCheck",
} as const;

/** The resources that must carry REQUIRED_TAGS. */
export const TAGGABLE_TYPES: readonly string[] = [
    TYPES.securityGroup,
    TYPES.keyPair,
    TYPES.instance,
    TYPES.eip,
    TYPES.role,
    TYPES.snapshotPolicy,
    TYPES.alarm,
    TYPES.topic,
    TYPES.healthCheck,
];
const REQUIRED_TAGS = ["Name", "project", "stack"] as const;

/** The stack config key that opts in to SSH from the whole internet (the program honours the same key). */
const SSH_FROM_ANYWHERE_KEY = "webstack:allowSshFromAnywhere";

/** Ports that listen on 127.0.0.1 only on the server, so no security group may open them. */
const PRIVATE_PORTS = [
    { what: "the database port", from: 3306, to: 3306 },
    { what: "the app ports", from: 3000, to: 3099 },
] as const;

const SSH_PORT = 22;
const ANYWHERE = ["0.0.0.0/0", "::/0"];

export type Props = Readonly<Record<string, unknown>>;

/** What CrossGuard passes a policy about one resource. */
export interface ResourceView {
    readonly type: string;
    readonly name: string;
    readonly urn: string;
    readonly props: Props;
}

/** What a policy may know about the stack besides its resources. */
export interface PolicyContext {
    /** The stack's webstack:allowSshFromAnywhere is true: SSH from the whole internet was asked for. */
    readonly allowSshFromAnywhere: boolean;
}

export interface StackViolation {
    readonly message: string;
    /** The resource at fault. */
    readonly urn: string;
}

/** One way in, however it was declared: inline on a group, or as a rule resource of its own. */
export interface Ingress {
    readonly protocol: string;
    readonly fromPort: number;
    readonly toPort: number;
    /** IPv4 and IPv6 source blocks. */
    readonly cidrs: readonly string[];
}

/**
 * Reads the opt-in from the stack's config. The Pulumi CLI hands a policy pack the stack's config
 * (PULUMI_CONFIG, what `pulumi.runtime.allConfig()` returns), so one switch serves the program and the
 * pack; values are strings as `pulumi config set` stores them.
 */
export function sshFromAnywhereAllowed(stackConfig: Readonly<Record<string, string>>): boolean {
    return stackConfig[SSH_FROM_ANYWHERE_KEY] === "true";
}

function strings(value: unknown): string[] {
    return Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];
}

function records(value: unknown): Props[] {
    return Array.isArray(value) ? value.filter((item): item is Props => typeof item === "object" && item !== null) : [];
}

function asProps(value: unknown): Props {
    return typeof value === "object" && value !== null ? (value as Props) : {};
}

function ec2StyleIngress(rule: Props): Ingress {
    return {
        protocol: String(rule.protocol ?? ""),
        fromPort: Number(rule.fromPort ?? 0),
        toPort: Number(rule.toPort ?? 0),
        cidrs: [...strings(rule.cidrBlocks), ...strings(rule.ipv6CidrBlocks)],
    };
}

/** The ingress rules a resource declares: a group's inline rules, or a separate ingress rule resource. */
function ingressOf(resource: Pick<ResourceView, "type" | "props">): Ingress[] {
    const { props } = resource;
    switch (resource.type) {
        case TYPES.securityGroup:
            return records(props.ingress).map(ec2StyleIngress);
        case TYPES.securityGroupRule:
            return props.type === "ingress" ? [ec2StyleIngress(props)] : [];
        case TYPES.ingressRule:
            return [
                {
                    protocol: String(props.ipProtocol ?? ""),
                    fromPort: Number(props.fromPort ?? 0),
                    toPort: Number(props.toPort ?? 0),
                    cidrs: [props.cidrIpv4, props.cidrIpv6].filter((cidr): cidr is string => typeof cidr === "string"),
                },
            ];
        default:
            return [];
    }
}

/** The ports a rule opens; undefined for protocols without ports (ICMP, ESP, ...), whose "ports" are types and codes. */
function portRange(rule: Ingress): { from: number; to: number } | undefined {
    const protocol = rule.protocol.toLowerCase();
    if (protocol === "-1" || protocol === "all") {
        return { from: 0, to: 65535 };
    }
    return ["tcp", "udp", "6", "17"].includes(protocol) ? { from: rule.fromPort, to: rule.toPort } : undefined;
}

/** Whether a rule opens any port from `from` to `to`: a range that merely includes one counts. */
function opensAnyPort(rule: Ingress, from: number, to: number): boolean {
    const range = portRange(rule);
    return range !== undefined && range.from <= to && from <= range.to;
}

function describeRule(rule: Ingress): string {
    const range = portRange(rule);
    const ports = range === undefined || range.from === range.to ? `${range?.from ?? "no port"}` : `${range.from}-${range.to}`;
    return `${rule.protocol} ${ports} from ${rule.cidrs.join(", ") || "other security groups"}`;
}

/** SSH from 0.0.0.0/0 or ::/0 is allowed only with the stack's opt-in. */
function sshFromAnywhereViolations(resource: ResourceView, context: PolicyContext): string[] {
    if (context.allowSshFromAnywhere) {
        return [];
    }
    return ingressOf(resource)
        .filter((rule) => opensAnyPort(rule, SSH_PORT, SSH_PORT) && rule.cidrs.some((cidr) => ANYWHERE.includes(cidr)))
        .map(
            (rule) =>
                `Ingress rule (${describeRule(rule)}) opens SSH to the whole internet. List your own addresses in webstack:sshAllowedCidrs, or set ${SSH_FROM_ANYWHERE_KEY} to true if that is really meant.`,
        );
}

/** Nothing may reach the database or the app processes directly, from any source: nginx fronts them. */
function privatePortViolations(resource: ResourceView): string[] {
    return ingressOf(resource).flatMap((rule) =>
        PRIVATE_PORTS.filter((ports) => opensAnyPort(rule, ports.from, ports.to)).map(
            (ports) =>
                `Ingress rule (${describeRule(rule)}) opens ${ports.what} (${ports.from === ports.to ? ports.from : `${ports.from}-${ports.to}`}), which must stay reachable from the server itself only.`,
        ),
    );
}

/** Instances answer metadata requests only with an IMDSv2 session token. */
function imdsV2Violations(resource: ResourceView): string[] {
    if (resource.type !== TYPES.instance) {
        return [];
    }
    const httpTokens = asProps(resource.props.metadataOptions).httpTokens;
    return httpTokens === "required"
        ? []
        : [`Instance metadata must require IMDSv2 session tokens: set metadataOptions.httpTokens to "required" (it is ${JSON.stringify(httpTokens ?? "unset")}).`];
}

/** Root volumes are encrypted, stated on the instance rather than left to an account default. */
function rootVolumeEncryptionViolations(resource: ResourceView): string[] {
    if (resource.type !== TYPES.instance) {
        return [];
    }
    return asProps(resource.props.rootBlockDevice).encrypted === true ? [] : ["The root volume must be encrypted: set rootBlockDevice.encrypted to true."];
}

/** Every taggable resource says what it is and which project and stack it belongs to. */
function missingTagViolations(resource: ResourceView): string[] {
    if (!TAGGABLE_TYPES.includes(resource.type)) {
        return [];
    }
    const tags = asProps(resource.props.tags);
    const missing = REQUIRED_TAGS.filter((tag) => typeof tags[tag] !== "string" || tags[tag] === "");
    return missing.length === 0 ? [] : [`Missing required tag${missing.length > 1 ? "s" : ""} ${missing.join(", ")} (every ${REQUIRED_TAGS.join(", ")} must be set).`];
}

/**
 * An alarm that tells nobody is no alarm: every CloudWatch alarm notifies someone when it fires and
 * when it clears. (During a preview the topic's ARN may not be known yet; CrossGuard then skips the check.)
 */
function alarmActionViolations(resource: ResourceView): string[] {
    if (resource.type !== TYPES.alarm) {
        return [];
    }
    const silent = [
        ...(strings(resource.props.alarmActions).length === 0 ? ["alarmActions (nobody hears it fire)"] : []),
        ...(strings(resource.props.okActions).length === 0 ? ["okActions (nobody hears it clear)"] : []),
        ...(resource.props.actionsEnabled === false ? ["actionsEnabled is false (nothing is sent at all)"] : []),
    ];
    return silent.length === 0 ? [] : [`The alarm ${resource.name} has no ${silent.join(", no ")}; point its actions at an SNS topic someone reads.`];
}

/** Every A record of the stack points at the stack's Elastic IP(s) and nowhere else. */
function dnsRecordViolations(resources: readonly ResourceView[]): StackViolation[] {
    const addresses = resources
        .filter((resource) => resource.type === TYPES.eip)
        .map((eip) => eip.props.publicIp)
        .filter((address): address is string => typeof address === "string");
    return resources
        .filter((resource) => resource.type === TYPES.record && resource.props.type === "A")
        .filter((record) => {
            const targets = strings(record.props.records);
            return targets.length === 0 || !targets.every((target) => addresses.includes(target));
        })
        .map((record) => ({
            urn: record.urn,
            message: `The A record ${String(record.props.name)} points at ${strings(record.props.records).join(", ") || "no address (an alias?)"}, not at the stack's Elastic IP (${addresses.join(", ") || "the stack has none"}).`,
        }));
}

interface ResourceRule {
    readonly name: string;
    readonly description: string;
    readonly check: (resource: ResourceView, context: PolicyContext) => string[];
}

export const RESOURCE_RULES: readonly ResourceRule[] = [
    {
        name: "no-ssh-from-anywhere",
        description: `No SSH (22) ingress from 0.0.0.0/0 or ::/0 unless the stack sets ${SSH_FROM_ANYWHERE_KEY} to true.`,
        check: sshFromAnywhereViolations,
    },
    {
        name: "no-private-port-ingress",
        description: "No ingress on the database port 3306 or the app ports 3000-3099, nor any range that includes them.",
        check: privatePortViolations,
    },
    { name: "imdsv2-required", description: "EC2 instances require IMDSv2 (metadataOptions.httpTokens = required).", check: imdsV2Violations },
    { name: "encrypted-root-volume", description: "EC2 instances have an encrypted root volume.", check: rootVolumeEncryptionViolations },
    {
        name: "required-tags",
        description: `Security groups, key pairs, instances, Elastic IPs, roles, snapshot policies, alarms, topics and health checks carry the tags ${REQUIRED_TAGS.join(", ")}.`,
        check: missingTagViolations,
    },
    { name: "alarms-notify", description: "Every CloudWatch alarm notifies an SNS topic when it fires and when it clears.", check: alarmActionViolations },
];

export const DNS_POLICY_NAME = "dns-points-at-elastic-ip";

/** The pack's policies, all mandatory: a violation fails `pulumi preview` and stops `pulumi up`. */
export function webstackPolicies(context: PolicyContext): Policies {
    const resourcePolicies = RESOURCE_RULES.map(
        (rule): ResourceValidationPolicy => ({
            name: rule.name,
            description: rule.description,
            enforcementLevel: "mandatory",
            validateResource: (args, reportViolation) => rule.check(args, context).forEach((message) => reportViolation(message)),
        }),
    );
    const dnsPolicy: StackValidationPolicy = {
        name: DNS_POLICY_NAME,
        description: "Every Route53 A record of the stack points at the stack's Elastic IP.",
        enforcementLevel: "mandatory",
        validateStack: (args, reportViolation) => dnsRecordViolations(args.resources).forEach(({ message, urn }) => reportViolation(message, urn)),
    };
    return [...resourcePolicies, dnsPolicy];
}
