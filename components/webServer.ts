import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { buildPlan, type ServerSettings } from "../provisioning";
import { cidrFamily, publicKeyMaterial } from "../provisioning/formats";
import { DEFAULT_HEALTH_PATH } from "../provisioning/layout";
import { siteUrl, wwwHostName } from "../provisioning/site";
import {
    architectureOf,
    checkedSiteDomain,
    EC2_DEFAULTS,
    IMDSV2_ONLY,
    serverImageId,
    serviceAssumeRolePolicy,
    siteRecordNames,
    siteZoneId,
} from "./ec2";
import { checkedAppEnvironment, DEFAULT_SSH_USER, RemoteProvisioner } from "./remoteProvisioner";
import { declareAlerts, instanceAlarms } from "./alerts";
import { checkerFor } from "./resourceErrors";
import { publicKeyOfPrivateKey } from "./sshKeys";
import { tagsFor as componentTags } from "./tags";

/** What WebServer uses for each argument left out; the stack config's messages quote them as examples. */
export const WEB_SERVER_DEFAULTS = {
    ...EC2_DEFAULTS,
    dnsTtl: 300,
    dailySnapshots: 7,
} as const;

/**
 * Why `wantedType` cannot replace the type of the server the stack runs (`runningType`), or undefined
 * when it can: the server keeps its image across updates, and an image of one architecture does not
 * boot on the other, so EC2 would stop the server and fail to start it.
 */
export function architectureChangeProblem(runningType: string | undefined, wantedType: string): string | undefined {
    if (runningType === undefined || architectureOf(runningType) === architectureOf(wantedType)) {
        return undefined;
    }
    return (
        `instanceType is ${wantedType} (${architectureOf(wantedType)}), but the server runs ${runningType} (${architectureOf(runningType)}), ` +
        `and its ${architectureOf(runningType)} image cannot boot on ${architectureOf(wantedType)}. Keep an ${architectureOf(runningType)} type, ` +
        "or move to a new server: take a backup (webstack-backup), set webstack:amiId to a Debian image of the new architecture, " +
        "lift the instance's protection (README: Teardown) and run pulumi up, then restore the dump."
    );
}

/** How WebServer configures its server: what runs there (buildPlan's settings) and how to reach it over SSH. */
export interface WebServerProvisioning extends ServerSettings {
    /**
     * The app's own environment variables, secrets among them (API keys): they reach a root-only file
     * on the server that the app instances read, and stay encrypted in the state. Defaults to none.
     */
    appEnvironment?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /** The private key matching sshPublicKey. Pass a secret. */
    sshPrivateKey: pulumi.Input<string>;
    /** Login user of the image. Defaults to "admin" (Debian's cloud images). */
    sshUser?: string;
    /** The server's host key, when known; otherwise it is not checked. Defaults to not checking. */
    sshHostKey?: pulumi.Input<string>;
}

export interface WebServerArgs {
    /** The site's apex domain, for example example.com: the site is served as www.<domain>, from the Route53 zone of that name unless hostedZoneId says otherwise. */
    domain: pulumi.Input<string>;
    /** EC2 instance type. Defaults to "t3.micro". */
    instanceType?: string;
    /** AMI to boot. Defaults to the newest official Debian 13 image for the instance type's architecture ({@link architectureOf}). */
    amiId?: pulumi.Input<string>;
    /** A public subnet (with a route to an internet gateway) to launch in; its VPC gets the security group. Defaults to the region's default VPC. */
    subnetId?: pulumi.Input<string>;
    /** Size of the encrypted gp3 root volume in GiB. Defaults to 16. */
    rootVolumeSizeGiB?: pulumi.Input<number>;
    /** OpenSSH public key installed for the login user. */
    sshPublicKey: pulumi.Input<string>;
    /** CIDR blocks (IPv4 or IPv6) that may connect to SSH on port 22. Nothing else may. */
    sshAllowedCidrs: pulumi.Input<readonly pulumi.Input<string>[]>;
    /** Route53 hosted zone id, for example a zone the same program creates. Defaults to the public zone named after the domain. */
    hostedZoneId?: pulumi.Input<string>;
    /** Also point the apex <domain> at the server (nginx redirects it to www). Defaults to false. */
    createApexRecord?: boolean;
    /** TTL of the DNS records in seconds. Defaults to 300. */
    dnsTtl?: pulumi.Input<number>;
    /**
     * How many daily snapshots of the root volume Data Lifecycle Manager keeps: the server's disk,
     * database dumps included, survives the loss of the instance. 0 turns them off. Defaults to 7.
     */
    dailySnapshots?: number;
    /** Tags added to every AWS resource, besides Name, project and stack. Defaults to none. */
    tags?: Record<string, string>;
    /**
     * Whether the server serves HTTPS, for a server this component does not configure (no
     * `provisioning`); with provisioning, its `tls` says so, and only one of the two can be given. The
     * url output and the health check follow it. Defaults to false.
     */
    https?: boolean;
    /**
     * Where to send alerts: set, it turns on a Route53 health check of the app's health path at
     * www.<domain> from AWS's checkers and CloudWatch alarms on it, on the instance's status checks
     * and (burstable types) on its CPU credit balance, each mailing this address through SNS when it
     * fires and when it clears. Defaults to no alerts.
     */
    alertEmail?: pulumi.Input<string>;
    /** How to configure the server once it is up. Defaults to leaving it unconfigured (infrastructure only). */
    provisioning?: WebServerProvisioning;
}

export interface IngressRule {
    readonly description: string;
    readonly protocol: "tcp";
    readonly fromPort: number;
    readonly toPort: number;
    readonly cidrBlocks: string[];
    readonly ipv6CidrBlocks: string[];
}

/** The blocks that are not CIDR blocks, for the error that names them. */
export function invalidCidrs(cidrs: readonly string[]): string[] {
    return cidrs.filter((cidr) => cidrFamily(cidr) === undefined);
}

/** The only ways in: HTTP and HTTPS from anywhere, SSH from the allowed blocks. Nothing else. */
export function ingressRules(sshAllowedCidrs: readonly string[]): IngressRule[] {
    const web = (description: string, port: number): IngressRule => ({
        description,
        protocol: "tcp",
        fromPort: port,
        toPort: port,
        cidrBlocks: ["0.0.0.0/0"],
        ipv6CidrBlocks: ["::/0"],
    });
    return [
        web("HTTP from anywhere", 80),
        web("HTTPS from anywhere", 443),
        {
            description: "SSH from the allowed blocks",
            protocol: "tcp",
            fromPort: 22,
            toPort: 22,
            cidrBlocks: sshAllowedCidrs.filter((cidr) => !cidr.includes(":")),
            ipv6CidrBlocks: sshAllowedCidrs.filter((cidr) => cidr.includes(":")),
        },
    ];
}

/**
 * The security group a deploy run opens SSH in for its own address while it runs, and closes after
 * (.github/scripts/runner-ssh-access.sh): Pulumi creates it empty and leaves its ingress alone, so
 * those short-lived rules never show as drift. No rule of its own: outbound traffic is the main group's.
 */
export function deployAccessGroupName(serverName: string): string {
    return `${serverName}-deploy-access`;
}

/**
 * The keys the server keeps authorized: the configured public key, and the public half of the private
 * key the steps connect with. Public, so not kept secret. A private key that cannot be read (a pull
 * request's placeholder) adds nothing: with it no step connects anyway.
 */
export function authorizedKeys(sshPublicKey: pulumi.Input<string>, sshPrivateKey: pulumi.Input<string>): pulumi.Output<string[]> {
    const connecting = pulumi.output(sshPrivateKey).apply((privateKey) => {
        try {
            return [publicKeyOfPrivateKey(privateKey)];
        } catch {
            return [];
        }
    });
    return pulumi.unsecret(
        pulumi.all([sshPublicKey, connecting]).apply(([publicKey, keys]) => [...new Set([publicKeyMaterial(publicKey), ...keys])]),
    );
}

/** AWS's managed policy that lets Data Lifecycle Manager create and delete EBS snapshots. */
export const DLM_SERVICE_POLICY_ARN = "arn:aws:iam::aws:policy/service-role/AWSDataLifecycleManagerServiceRole";
/** Data Lifecycle Manager keeps at most this many snapshots per schedule. */
export const MAX_DAILY_SNAPSHOTS = 1000;
/** The tag that marks the volumes a snapshot policy covers. */
export const SNAPSHOT_TARGET_TAG = "webstack-snapshots";

/** A daily snapshot at 03:00 UTC of every volume carrying the target tag, the newest `count` kept. */
export function snapshotPolicyDetails(targetTagValue: string, count: number): aws.types.input.dlm.LifecyclePolicyPolicyDetails {
    if (!Number.isInteger(count) || count < 1 || count > MAX_DAILY_SNAPSHOTS) {
        throw new Error(
            `dailySnapshots is ${count}; expected a whole number from 1 to ${MAX_DAILY_SNAPSHOTS} (or 0 for none), for example ${WEB_SERVER_DEFAULTS.dailySnapshots}.`,
        );
    }
    return {
        resourceTypes: ["VOLUME"],
        targetTags: { [SNAPSHOT_TARGET_TAG]: targetTagValue },
        schedules: [
            {
                name: `daily ${count} kept`,
                createRule: { interval: 24, intervalUnit: "HOURS", times: "03:00" },
                retainRule: { count },
                copyTags: true,
            },
        ],
    };
}

/** What Data Lifecycle Manager takes in a policy's description and a schedule's name (its API's pattern). */
export const DLM_TEXT = /^[0-9A-Za-z _-]{1,120}$/;

/** The snapshot policy's description: the component's name with anything DLM refuses made a dash. */
export function snapshotPolicyDescription(componentName: string): string {
    return `webstack ${componentName.replace(/[^0-9A-Za-z _-]/g, "-")} daily root volume snapshots`.slice(0, 120);
}

/**
 * One Debian server on EC2 with a fixed public address and a DNS name: security group, key pair,
 * instance, Elastic IP, Route53 records, and then the server's configuration over SSH.
 */
export class WebServer extends pulumi.ComponentResource {
    readonly instanceId: pulumi.Output<string>;
    readonly publicIp: pulumi.Output<string>;
    readonly hostName: pulumi.Output<string>;
    readonly url: pulumi.Output<string>;
    readonly sshCommand: pulumi.Output<string>;
    /** The group a deploy run opens SSH in for itself ({@link deployAccessGroupName}). */
    readonly deployAccessGroupId: pulumi.Output<string>;
    readonly provisioner: RemoteProvisioner | undefined;

    constructor(name: string, args: WebServerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("webstack:index:WebServer", name, {}, opts);
        const checked = checkerFor(this);
        const instanceType = args.instanceType ?? WEB_SERVER_DEFAULTS.instanceType;
        const rootVolumeSizeGiB = args.rootVolumeSizeGiB ?? WEB_SERVER_DEFAULTS.rootVolumeSizeGiB;
        const createApexRecord = args.createApexRecord ?? false;
        const dnsTtl = args.dnsTtl ?? WEB_SERVER_DEFAULTS.dnsTtl;
        const sshUser = args.provisioning?.sshUser ?? DEFAULT_SSH_USER;
        const dailySnapshots = args.dailySnapshots ?? WEB_SERVER_DEFAULTS.dailySnapshots;
        const snapshotTarget = `${pulumi.getStack()}-${name}`;
        const snapshotPolicy =
            dailySnapshots === 0 ? undefined : checked(undefined, () => snapshotPolicyDetails(snapshotTarget, dailySnapshots));
        const tagsFor = componentTags(name, args.tags);
        const parent = { parent: this };
        if (args.provisioning !== undefined && args.https !== undefined) {
            throw new pulumi.ResourceError(
                `Only one of [https] and [provisioning] can be specified: with provisioning, its tls says whether the site serves HTTPS; https is ${args.https}.`,
                this,
            );
        }
        const https = args.provisioning !== undefined ? args.provisioning.tls !== undefined : (args.https ?? false);
        const healthPath = args.provisioning?.release.healthPath ?? DEFAULT_HEALTH_PATH;
        const domain = checkedSiteDomain(args.domain, checked);
        const hostName = domain.apply(wwwHostName);
        // Built before any resource, so that bad settings fail before anything is created.
        // The stack owns this server and its login user: the plan keeps exactly the configured key and the one it connects with.
        const plan =
            args.provisioning &&
            checked("provisioning", () => buildPlan({ ...(args.provisioning as ServerSettings), sshAccess: { user: sshUser } }));
        const appEnvironment = args.provisioning && checkedAppEnvironment(args.provisioning.appEnvironment, this);
        const checkedCidrs = (cidrs: readonly string[]): readonly string[] => {
            const invalid = invalidCidrs(cidrs);
            if (invalid.length > 0) {
                throw new pulumi.ResourceError(
                    `sshAllowedCidrs has ${invalid.map((cidr) => JSON.stringify(cidr)).join(", ")}, which is not a CIDR block; expected for example 203.0.113.7/32 or 2001:db8::/64.`,
                    this,
                );
            }
            return cidrs;
        };
        if (Array.isArray(args.sshAllowedCidrs) && args.sshAllowedCidrs.every((cidr) => typeof cidr === "string")) {
            checkedCidrs(args.sshAllowedCidrs as readonly string[]);
        }

        const vpcId =
            args.subnetId === undefined
                ? undefined
                : aws.ec2.getSubnetOutput({ id: args.subnetId }, parent).apply((subnet) => subnet.vpcId);
        const securityGroup = new aws.ec2.SecurityGroup(
            `${name}-sg`,
            {
                vpcId,
                description: `webstack ${name}: HTTP and HTTPS from anywhere, SSH from allowed blocks`,
                ingress: pulumi.output(args.sshAllowedCidrs).apply((cidrs) => ingressRules(checkedCidrs(cidrs))),
                egress: [
                    {
                        description: "All outbound",
                        protocol: "-1",
                        fromPort: 0,
                        toPort: 0,
                        cidrBlocks: ["0.0.0.0/0"],
                        ipv6CidrBlocks: ["::/0"],
                    },
                ],
                tags: tagsFor("sg"),
            },
            parent,
        );

        const deployAccess = new aws.ec2.SecurityGroup(
            deployAccessGroupName(name),
            {
                vpcId,
                description: `webstack ${name}: SSH from the deploy run in progress only (rules added and removed by the run)`,
                egress: [],
                tags: tagsFor("deploy-access"),
            },
            { ...parent, ignoreChanges: ["ingress"] },
        );

        // The key's comment is no part of it: editing it must not make a new key pair.
        const keyPair = new aws.ec2.KeyPair(
            `${name}-key`,
            { publicKey: pulumi.output(args.sshPublicKey).apply(publicKeyMaterial), tags: tagsFor("key") },
            parent,
        );

        const amiId = serverImageId(args.amiId, instanceType, parent);

        // The type the running server has, when there is one: it must keep its architecture (the image does).
        const runningType = aws.ec2
            .getInstancesOutput(
                {
                    instanceTags: { Name: tagsFor("instance").Name, stack: pulumi.getStack() },
                    instanceStateNames: ["pending", "running", "stopping", "stopped"],
                },
                parent,
            )
            .apply((found) =>
                found.ids.length === 0
                    ? pulumi.output(undefined)
                    : aws.ec2.getInstanceOutput({ instanceId: found.ids[0] }, parent).instanceType,
            );
        const checkedInstanceType = runningType.apply((running) => {
            const problem = args.amiId === undefined ? architectureChangeProblem(running, instanceType) : undefined;
            if (problem !== undefined) {
                throw new pulumi.ResourceError(problem, this);
            }
            return instanceType;
        });

        const instance = new aws.ec2.Instance(
            `${name}-instance`,
            {
                ami: amiId,
                instanceType: checkedInstanceType,
                subnetId: args.subnetId,
                keyName: keyPair.keyName,
                vpcSecurityGroupIds: [securityGroup.id, deployAccess.id],
                metadataOptions: IMDSV2_ONLY,
                rootBlockDevice: {
                    volumeType: "gp3",
                    volumeSize: rootVolumeSizeGiB,
                    encrypted: true,
                    deleteOnTermination: true,
                    tags: { ...tagsFor("root"), [SNAPSHOT_TARGET_TAG]: snapshotTarget },
                },
                maintenanceOptions: { autoRecovery: "default" },
                // The server holds the database: a terminate call by mistake is refused.
                disableApiTermination: true,
                tags: tagsFor("instance"),
            },
            // A newer Debian image must not replace a running server; replacing it is a deliberate act.
            // Nor a new key pair: EC2 reads it at the first boot only, and keyName forces a new instance.
            // Any replacement or destroy stops at `protect` until it is lifted (lift-protection.sh).
            { ...parent, protect: true, ignoreChanges: [...(args.amiId === undefined ? ["ami"] : []), "keyName"] },
        );

        if (snapshotPolicy !== undefined) {
            const snapshotRole = new aws.iam.Role(
                `${name}-snapshots-role`,
                { assumeRolePolicy: serviceAssumeRolePolicy("dlm.amazonaws.com"), tags: tagsFor("snapshots-role") },
                parent,
            );
            const snapshotPermissions = new aws.iam.RolePolicyAttachment(
                `${name}-snapshots-policy`,
                { role: snapshotRole.name, policyArn: DLM_SERVICE_POLICY_ARN },
                parent,
            );
            new aws.dlm.LifecyclePolicy(
                `${name}-snapshots`,
                {
                    description: snapshotPolicyDescription(name),
                    executionRoleArn: snapshotRole.arn,
                    state: "ENABLED",
                    policyDetails: snapshotPolicy,
                    tags: tagsFor("snapshots"),
                },
                // DLM checks the role's permissions when the policy is created.
                { ...parent, dependsOn: [snapshotPermissions] },
            );
        }

        const elasticIp = new aws.ec2.Eip(`${name}-eip`, { domain: "vpc", instance: instance.id, tags: tagsFor("eip") }, parent);

        const zoneId = siteZoneId(domain, args.hostedZoneId, parent);
        const records = Object.entries(siteRecordNames(domain, createApexRecord)).map(
            ([record, recordName]) =>
                new aws.route53.Record(
                    `${name}-${record}-record`,
                    { zoneId, name: recordName, type: "A", ttl: dnsTtl, records: [elasticIp.publicIp], allowOverwrite: false },
                    parent,
                ),
        );

        this.provisioner =
            args.provisioning &&
            plan &&
            new RemoteProvisioner(
                `${name}-provision`,
                {
                    connection: {
                        host: elasticIp.publicIp,
                        user: sshUser,
                        privateKey: args.provisioning.sshPrivateKey,
                        hostKey: args.provisioning.sshHostKey,
                    },
                    plan,
                    domain,
                    appEnvironment,
                    serverIdentity: [instance.id],
                    dnsReady: records,
                    authorizedKeys: authorizedKeys(args.sshPublicKey, args.provisioning.sshPrivateKey),
                },
                { parent: this, dependsOn: [elasticIp] },
            );

        if (args.alertEmail !== undefined) {
            const lastStep = this.provisioner?.lastStep;
            declareAlerts(name, {
                email: args.alertEmail,
                site: { hostName, https, healthPath, ready: lastStep === undefined ? records : [lastStep] },
                alarms: instanceAlarms(instanceType).map((spec) => ({ spec, dimensions: { InstanceId: instance.id } })),
                tagsFor,
                parent: this,
            });
        }

        this.instanceId = instance.id;
        this.publicIp = elasticIp.publicIp;
        this.hostName = hostName;
        this.url = domain.apply((apex) => siteUrl(apex, https));
        this.sshCommand = pulumi.interpolate`ssh ${sshUser}@${elasticIp.publicIp}`;
        this.deployAccessGroupId = deployAccess.id;
        this.registerOutputs({
            deployAccessGroupId: this.deployAccessGroupId,
            instanceId: this.instanceId,
            publicIp: this.publicIp,
            hostName: this.hostName,
            url: this.url,
            sshCommand: this.sshCommand,
        });
    }
}
