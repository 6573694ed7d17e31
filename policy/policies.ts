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
    launchTemplate: "aws:ec2/launchTemplate:LaunchTemplate",
    loadBalancer: "aws:lb/loadBalancer:LoadBalancer",
    targetGroup: "aws:lb/targetGroup:TargetGroup",
    listener: "aws:lb/listener:Listener",
    certificate: "aws:acm/certificate:Certificate",
    database: "aws:rds/instance:Instance",
    databaseSubnetGroup: "aws:rds/subnetGroup:SubnetGroup",
    databaseParameters: "aws:rds/parameterGroup:ParameterGroup",
    instanceProfile: "aws:iam/instanceProfile:InstanceProfile",
    bucket: "aws:s3/bucket:Bucket",
    bucketPublicAccess: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    bucketVersioning: "aws:s3/bucketVersioning:BucketVersioning",
    bucketEncryption: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    remoteCommand: "command:remote:Command",
    remoteCopy: "command:remote:CopyToRemote",
} as const;

/** The component that creates the server it configures; its steps reach the Elastic IP it made. */
const SERVER_CREATING_COMPONENT = "webstack:index:WebServer";

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
    TYPES.launchTemplate,
    TYPES.loadBalancer,
    TYPES.targetGroup,
    TYPES.listener,
    TYPES.certificate,
    TYPES.database,
    TYPES.databaseSubnetGroup,
    TYPES.databaseParameters,
    TYPES.instanceProfile,
    TYPES.bucket,
];
const REQUIRED_TAGS = ["Name", "project", "stack"] as const;

/** The stack config key that opts in to SSH from the whole internet (the program honours the same key). */
const SSH_FROM_ANYWHERE_KEY = "webstack:allowSshFromAnywhere";

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

export type Props = Readonly<Record<string, unknown>>;

/** What CrossGuard passes a policy about one resource. */
export interface ResourceView {
    readonly type: string;
    readonly name: string;
    readonly urn: string;
    readonly props: Props;
    /** Its `protect` option (resource policies only). */
    readonly protect?: boolean;
}

/** What holds the stack's data or what its servers need to boot: the single server, the database, the plan bucket. */
const STATEFUL_TYPES: readonly string[] = [TYPES.instance, TYPES.database, TYPES.bucket];

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

/**
 * No address block may reach the database or the app processes directly: nginx fronts them. Only a
 * security group (the ha topology's app servers) may reach a database port.
 */
function privatePortViolations(resource: ResourceView): string[] {
    const fromGroupsOnly = (rule: Ingress) => rule.cidrs.length === 0 && rule.sourceGroups.length > 0;
    return ingressOf(resource).flatMap((rule) =>
        PRIVATE_PORTS.filter((ports) => opensAnyPort(rule, ports.from, ports.to) && !(ports.groupsMayReach && fromGroupsOnly(rule))).map(
            (ports) =>
                `Ingress rule (${describeRule(rule)}) opens ${ports.what} (${ports.from === ports.to ? ports.from : `${ports.from}-${ports.to}`}), which must stay reachable from the server itself only.`,
        ),
    );
}

/** Instances, and the launch templates Auto Scaling starts them from, answer metadata requests only with an IMDSv2 session token. */
function imdsV2Violations(resource: ResourceView): string[] {
    if (resource.type !== TYPES.instance && resource.type !== TYPES.launchTemplate) {
        return [];
    }
    const httpTokens = asProps(resource.props.metadataOptions).httpTokens;
    return httpTokens === "required"
        ? []
        : [
              `Instance metadata must require IMDSv2 session tokens: set metadataOptions.httpTokens to "required" (it is ${JSON.stringify(httpTokens ?? "unset")}).`,
          ];
}

/**
 * A remote step sends its script, the app's secrets among them, to whatever answers at the address:
 * on a server the stack did not create (an existing server), only the host key tells that it is the
 * right one. The steps of a server the stack creates are exempt: its key is made at first boot.
 */
function hostKeyViolations(resource: ResourceView): string[] {
    if (resource.type !== TYPES.remoteCommand && resource.type !== TYPES.remoteCopy) {
        return [];
    }
    if (resource.urn.includes(`${SERVER_CREATING_COMPONENT}$`)) {
        return [];
    }
    const connection = asProps(resource.props.connection);
    if (typeof connection.hostKey === "string" && connection.hostKey !== "") {
        return [];
    }
    return [
        `The step connects to ${String(connection.host ?? "its server")} without a pinned host key, yet sends it the server's configuration and secrets: ` +
            "set webstack:sshHostKey to the server's key (ssh-keyscan -t ed25519 HOST prints it), or give the connection a hostKey.",
    ];
}

/** Stateful resources refuse a replacement or a destroy by mistake: Pulumi's protect, and EC2's termination protection for an instance. */
function statefulProtectionViolations(resource: ResourceView): string[] {
    if (!STATEFUL_TYPES.includes(resource.type)) {
        return [];
    }
    const missing = [
        ...(resource.protect === true ? [] : ["Pulumi's protect option"]),
        ...(resource.type === TYPES.instance && resource.props.disableApiTermination !== true ? ["disableApiTermination set to true"] : []),
    ];
    return missing.length === 0
        ? []
        : [
              `${resource.name} holds the stack's data or what its servers boot from; it needs ${missing.join(" and ")}, so that no replacement or destroy deletes it by mistake (the Destroy workflow's lift-protection.sh lifts them).`,
          ];
}

/** Root volumes are encrypted, stated on the instance or launch template rather than left to an account default. */
function rootVolumeEncryptionViolations(resource: ResourceView): string[] {
    if (resource.type === TYPES.instance) {
        return asProps(resource.props.rootBlockDevice).encrypted === true
            ? []
            : ["The root volume must be encrypted: set rootBlockDevice.encrypted to true."];
    }
    if (resource.type === TYPES.launchTemplate) {
        const volumes = records(resource.props.blockDeviceMappings).map((mapping) => asProps(mapping.ebs));
        const encrypted = volumes.length > 0 && volumes.every((ebs) => ebs.encrypted === true || ebs.encrypted === "true");
        return encrypted
            ? []
            : [
                  'Every volume of the launch template must be encrypted: give blockDeviceMappings with ebs.encrypted "true", the root volume among them.',
              ];
    }
    return [];
}

/** What a database must be, each property with the value it must have and why. */
const DATABASE_REQUIREMENTS = [
    { property: "storageEncrypted", wanted: true, why: "its storage and snapshots are encrypted" },
    { property: "multiAz", wanted: true, why: "a standby in another zone takes over" },
    { property: "deletionProtection", wanted: true, why: "nobody deletes it by accident" },
    { property: "manageMasterUserPassword", wanted: true, why: "AWS makes and rotates the password; the program never holds it" },
] as const;

/** A database is private, encrypted, Multi-AZ, protected from deletion, backed up, snapshotted when deleted, its password AWS's. */
function databaseViolations(resource: ResourceView): string[] {
    if (resource.type !== TYPES.database) {
        return [];
    }
    const { props } = resource;
    return [
        ...DATABASE_REQUIREMENTS.filter((requirement) => props[requirement.property] !== requirement.wanted).map(
            (requirement) => `The database must set ${requirement.property} to ${requirement.wanted}, so that ${requirement.why}.`,
        ),
        ...(props.publiclyAccessible === true ? ["The database must not be publicly accessible: set publiclyAccessible to false."] : []),
        ...(Number(props.backupRetentionPeriod ?? 0) < 1
            ? ["The database must keep automated backups: set backupRetentionPeriod to 1 day or more (7 is webstack's)."]
            : []),
        ...(props.skipFinalSnapshot === true
            ? ["The database must be snapshotted when it is deleted: set skipFinalSnapshot to false with a finalSnapshotIdentifier."]
            : []),
    ];
}

/** The load balancer serves HTTPS with TLS 1.3 policies, and plain HTTP only to redirect to HTTPS. */
function listenerViolations(resource: ResourceView): string[] {
    if (resource.type !== TYPES.listener) {
        return [];
    }
    const { props } = resource;
    if (props.protocol === "HTTPS") {
        const policy = String(props.sslPolicy ?? "");
        return policy.startsWith("ELBSecurityPolicy-TLS13-")
            ? []
            : [
                  `The HTTPS listener's sslPolicy is ${JSON.stringify(policy || "unset")}; use a TLS 1.3 policy such as ELBSecurityPolicy-TLS13-1-2-2021-06.`,
              ];
    }
    const redirectsToHttps = (action: Props) => action.type === "redirect" && asProps(action.redirect).protocol === "HTTPS";
    const actions = records(props.defaultActions);
    return actions.length > 0 && actions.every(redirectsToHttps)
        ? []
        : [`The ${String(props.protocol ?? "")} listener on port ${String(props.port ?? "")} must only redirect to HTTPS.`];
}

/** Every taggable resource says what it is and which project and stack it belongs to. */
function missingTagViolations(resource: ResourceView): string[] {
    if (!TAGGABLE_TYPES.includes(resource.type)) {
        return [];
    }
    const tags = asProps(resource.props.tags);
    const missing = REQUIRED_TAGS.filter((tag) => typeof tags[tag] !== "string" || tags[tag] === "");
    return missing.length === 0
        ? []
        : [`Missing required tag${missing.length > 1 ? "s" : ""} ${missing.join(", ")} (every ${REQUIRED_TAGS.join(", ")} must be set).`];
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
    return silent.length === 0
        ? []
        : [`The alarm ${resource.name} has no ${silent.join(", no ")}; point its actions at an SNS topic someone reads.`];
}

/** Every A record of the stack points at the stack's Elastic IP(s), or is an alias of the stack's load balancer, and nothing else. */
function dnsRecordViolations(resources: readonly ResourceView[]): StackViolation[] {
    const addresses = resources
        .filter((resource) => resource.type === TYPES.eip)
        .map((eip) => eip.props.publicIp)
        .filter((address): address is string => typeof address === "string");
    const loadBalancers = resources
        .filter((resource) => resource.type === TYPES.loadBalancer)
        .map((loadBalancer) => loadBalancer.props.dnsName)
        .filter((name): name is string => typeof name === "string");
    const inStack = (record: ResourceView) => {
        const targets = strings(record.props.records);
        const aliases = records(record.props.aliases).map((alias) => alias.name);
        return (
            targets.length + aliases.length > 0 &&
            targets.every((target) => addresses.includes(target)) &&
            aliases.every((alias) => loadBalancers.includes(alias as string))
        );
    };
    return resources
        .filter((resource) => resource.type === TYPES.record && resource.props.type === "A" && !inStack(resource))
        .map((record) => {
            const targets = [
                ...strings(record.props.records),
                ...records(record.props.aliases).map((alias) => `alias ${String(alias.name)}`),
            ];
            return {
                urn: record.urn,
                message: `The A record ${String(record.props.name)} points at ${targets.join(", ") || "nothing"}, not at the stack's Elastic IP (${addresses.join(", ") || "none"}) or load balancer (${loadBalancers.join(", ") || "none"}).`,
            };
        });
}

/** Every bucket of the stack is closed to the public, versioned and encrypted, by settings that name it. */
function bucketViolations(resources: readonly ResourceView[]): StackViolation[] {
    const settingOf = (type: string, bucket: string) =>
        resources.find((resource) => resource.type === type && resource.props.bucket === bucket)?.props;
    return resources
        .filter((resource) => resource.type === TYPES.bucket)
        .flatMap((bucket) => {
            const name = String(bucket.props.bucket);
            const publicAccess = settingOf(TYPES.bucketPublicAccess, name);
            const versioning = settingOf(TYPES.bucketVersioning, name);
            const encryption = settingOf(TYPES.bucketEncryption, name);
            const missing = [
                ...(["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"].every(
                    (key) => publicAccess?.[key] === true,
                )
                    ? []
                    : ["a public access block with all four settings true"]),
                ...(asProps(versioning?.versioningConfiguration).status === "Enabled" ? [] : ["versioning enabled"]),
                ...(records(encryption?.rules).length > 0 ? [] : ["default server-side encryption"]),
            ];
            return missing.length === 0 ? [] : [{ urn: bucket.urn, message: `The bucket ${name} needs ${missing.join(", ")}.` }];
        });
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
    {
        name: "imdsv2-required",
        description: "EC2 instances and launch templates require IMDSv2 (metadataOptions.httpTokens = required).",
        check: imdsV2Violations,
    },
    {
        name: "encrypted-root-volume",
        description: "EC2 instances and launch templates have encrypted volumes.",
        check: rootVolumeEncryptionViolations,
    },
    {
        name: "required-tags",
        description: `Every taggable resource the stack declares (security groups, instances, launch templates, load balancers, databases, buckets, roles, alarms, ...) carries the tags ${REQUIRED_TAGS.join(", ")}.`,
        check: missingTagViolations,
    },
    {
        name: "alarms-notify",
        description: "Every CloudWatch alarm notifies an SNS topic when it fires and when it clears.",
        check: alarmActionViolations,
    },
    {
        name: "database-protected",
        description:
            "Databases are private, encrypted, Multi-AZ, protected from deletion, backed up, snapshotted when deleted, their password managed by AWS.",
        check: databaseViolations,
    },
    {
        name: "ssh-host-key-pinned",
        description: "Remote steps that configure a server the stack did not create pin the server's SSH host key.",
        check: hostKeyViolations,
    },
    {
        name: "stateful-resources-protected",
        description:
            "The single server, the database and the plan bucket carry Pulumi's protect option, and the server EC2's termination protection.",
        check: statefulProtectionViolations,
    },
    {
        name: "load-balancer-https",
        description: "Load balancers serve HTTPS with a TLS 1.3 policy, and plain HTTP only to redirect to HTTPS.",
        check: listenerViolations,
    },
];

export const DNS_POLICY_NAME = "dns-points-into-stack";
export const BUCKET_POLICY_NAME = "buckets-private";

/** The pack's policies, all mandatory: a violation fails `pulumi preview` and stops `pulumi up`. */
export function webstackPolicies(context: PolicyContext): Policies {
    const resourcePolicies = RESOURCE_RULES.map((rule): ResourceValidationPolicy => ({
        name: rule.name,
        description: rule.description,
        enforcementLevel: "mandatory",
        validateResource: (args, reportViolation) =>
            rule.check({ ...args, protect: args.opts.protect }, context).forEach((message) => reportViolation(message)),
    }));
    const stackPolicy = (
        name: string,
        description: string,
        check: (resources: readonly ResourceView[]) => StackViolation[],
    ): StackValidationPolicy => ({
        name,
        description,
        enforcementLevel: "mandatory",
        validateStack: (args, reportViolation) => check(args.resources).forEach(({ message, urn }) => reportViolation(message, urn)),
    });
    return [
        ...resourcePolicies,
        stackPolicy(
            DNS_POLICY_NAME,
            "Every Route53 A record of the stack points at the stack's Elastic IP, or is an alias of the stack's load balancer.",
            dnsRecordViolations,
        ),
        stackPolicy(
            BUCKET_POLICY_NAME,
            "Every S3 bucket of the stack blocks public access, keeps versions and encrypts by default.",
            bucketViolations,
        ),
    ];
}
