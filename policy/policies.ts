/**
 * The webstack policy pack's rules are pure functions of what CrossGuard hands a policy: a
 * resource's type, name, URN and properties (its inputs for resource policies, its outputs for
 * stack policies). `webstackPolicies` wraps them into the Policy objects the pack serves, so the
 * same code runs under the Pulumi CLI and in the unit tests.
 *
 * The pack is self-contained (it imports nothing from the program) so that it also works when it is
 * published to Pulumi Cloud on its own with `pulumi policy publish`.
 */
import type { Policies, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { privatePortViolations, SSH_FROM_ANYWHERE_KEY, sshFromAnywhereViolations } from "./ingressRules";
import {
    alarmActionViolations,
    databaseViolations,
    hostKeyViolations,
    imdsV2Violations,
    listenerViolations,
    missingTagViolations,
    REQUIRED_TAGS,
    rootVolumeEncryptionViolations,
    statefulProtectionViolations,
} from "./resourceRules";
import type { PolicyContext, ResourceView, StackViolation } from "./resourceView";
import { bucketViolations, dnsRecordViolations } from "./stackRules";

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
        description: "Remote steps pin the SSH host key of the server they configure, whether the stack created it or not.",
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
