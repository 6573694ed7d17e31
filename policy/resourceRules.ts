/** The rules each resource must meet on its own, whatever else the stack declares. */
import { asProps, records, strings, TYPES, type Props, type ResourceView } from "./resourceView";

/** The component that creates the server it configures; its steps reach the Elastic IP it made. */

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
export const REQUIRED_TAGS = ["Name", "project", "stack"] as const;

/** What holds the stack's data or what its servers need to boot: the single server, the database, the plan bucket. */
const STATEFUL_TYPES: readonly string[] = [TYPES.instance, TYPES.database, TYPES.bucket];

/** Instances, and the launch templates Auto Scaling starts them from, answer metadata requests only with an IMDSv2 session token. */
export function imdsV2Violations(resource: ResourceView): string[] {
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
 * only the host key tells that it is the right server. A server the stack creates gets its key from
 * the stack at first boot; an existing server's is configured.
 */
export function hostKeyViolations(resource: ResourceView): string[] {
    if (resource.type !== TYPES.remoteCommand && resource.type !== TYPES.remoteCopy) {
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

/** The tag WebServer gives a server it keeps, stopped, besides the one that serves (components/server/instance.ts). */
export const KEPT_SERVER_TAG = "webstack-kept-server";

/** Stateful resources refuse a replacement or a destroy by mistake: Pulumi's protect, and EC2's termination protection for an instance. */
export function statefulProtectionViolations(resource: ResourceView): string[] {
    if (!STATEFUL_TYPES.includes(resource.type)) {
        return [];
    }
    // A server kept for the site to move back to goes when webstack:serverGenerations drops it.
    const kept = resource.type === TYPES.instance && asProps(resource.props.tags)[KEPT_SERVER_TAG] === "true";
    const missing = [
        ...(resource.protect === true || kept ? [] : ["Pulumi's protect option"]),
        ...(resource.type === TYPES.instance && resource.props.disableApiTermination !== true ? ["disableApiTermination set to true"] : []),
    ];
    return missing.length === 0
        ? []
        : [
              `${resource.name} holds the stack's data or what its servers boot from; it needs ${missing.join(" and ")}, so that no replacement or destroy deletes it by mistake (the Destroy workflow's lift-protection.sh lifts them).`,
          ];
}

/** Root volumes are encrypted, stated on the instance or launch template rather than left to an account default. */
export function rootVolumeEncryptionViolations(resource: ResourceView): string[] {
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
export function databaseViolations(resource: ResourceView): string[] {
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
export function listenerViolations(resource: ResourceView): string[] {
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
export function missingTagViolations(resource: ResourceView): string[] {
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
export function alarmActionViolations(resource: ResourceView): string[] {
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
