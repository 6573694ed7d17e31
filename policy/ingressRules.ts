/**
 * The rules on what may reach the stack's servers, and the parsing they share: ingress can be declared
 * three ways (inline on a group, as an EC2 rule resource, as a VPC rule resource), and each rule must
 * judge all three alike.
 */
import { records, strings, TYPES, type PolicyContext, type Props, type ResourceView } from "./resourceView";

/** The stack config key that opts in to SSH from the whole internet (the program honours the same key). */
export const SSH_FROM_ANYWHERE_KEY = "webstack:allowSshFromAnywhere";

/**
 * Ports that listen on 127.0.0.1 only on a server, so no address block may reach them. A database
 * of its own (RDS, in the ha topology) is reached by the app servers' security group, and only so.
 */
const PRIVATE_PORTS = [
    { what: "the database port", from: 3306, to: 3306, groupsMayReach: true },
    { what: "the app ports", from: 3000, to: 3099, groupsMayReach: false },
] as const;

const SSH_PORT = 22;
const ANYWHERE = ["0.0.0.0/0", "::/0"];

/** One way in, however it was declared: inline on a group, or as a rule resource of its own. */
export interface Ingress {
    readonly protocol: string;
    readonly fromPort: number;
    readonly toPort: number;
    /** IPv4 and IPv6 source blocks. */
    readonly cidrs: readonly string[];
    /** Source security groups. */
    readonly sourceGroups: readonly string[];
}

/**
 * Reads the opt-in from the stack's config. The Pulumi CLI hands a policy pack the stack's config
 * (PULUMI_CONFIG, what `pulumi.runtime.allConfig()` returns), so one switch serves the program and the
 * pack; values are strings as `pulumi config set` stores them.
 */
export function sshFromAnywhereAllowed(stackConfig: Readonly<Record<string, string>>): boolean {
    return stackConfig[SSH_FROM_ANYWHERE_KEY] === "true";
}

function ec2StyleIngress(rule: Props): Ingress {
    return {
        protocol: String(rule.protocol ?? ""),
        fromPort: Number(rule.fromPort ?? 0),
        toPort: Number(rule.toPort ?? 0),
        cidrs: [...strings(rule.cidrBlocks), ...strings(rule.ipv6CidrBlocks)],
        sourceGroups: [
            ...strings(rule.securityGroups),
            ...(typeof rule.sourceSecurityGroupId === "string" ? [rule.sourceSecurityGroupId] : []),
        ],
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
                    sourceGroups: typeof props.referencedSecurityGroupId === "string" ? [props.referencedSecurityGroupId] : [],
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
export function sshFromAnywhereViolations(resource: ResourceView, context: PolicyContext): string[] {
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

/**
 * No address block may reach the database or the app processes directly: nginx fronts them. Only a
 * security group (the ha topology's app servers) may reach a database port.
 */
export function privatePortViolations(resource: ResourceView): string[] {
    const fromGroupsOnly = (rule: Ingress) => rule.cidrs.length === 0 && rule.sourceGroups.length > 0;
    return ingressOf(resource).flatMap((rule) =>
        PRIVATE_PORTS.filter((ports) => opensAnyPort(rule, ports.from, ports.to) && !(ports.groupsMayReach && fromGroupsOnly(rule))).map(
            (ports) =>
                `Ingress rule (${describeRule(rule)}) opens ${ports.what} (${ports.from === ports.to ? ports.from : `${ports.from}-${ports.to}`}), which must stay reachable from the server itself only.`,
        ),
    );
}
