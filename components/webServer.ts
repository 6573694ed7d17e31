import * as pulumi from "@pulumi/pulumi";
import { buildPlan, type ServerSettings } from "../provisioning";
import { keyPairMaterial } from "../provisioning/formats";
import { DEFAULT_HEALTH_PATH, SERVER_METRICS } from "../provisioning/layout";
import { siteUrl, wwwHostName } from "../provisioning/site";
import { checkedSiteDomain, EC2_DEFAULTS } from "./ec2";
import { checkedAppEnvironment, DEFAULT_SSH_USER, RemoteProvisioner } from "./remoteProvisioner";
import { backupAlarms, declareAlerts, instanceAlarms, rebootPendingAlarm } from "./alerts";
import { checkerFor } from "./resourceErrors";
import { declareAddress } from "./server/address";
import { declareFirewall } from "./server/firewall";
import { declareHostKey } from "./server/hostKey";
import { declareInstance, hostKeyProblem, runningServer } from "./server/instance";
import { DAILY_SNAPSHOT_BOUNDS, DEFAULT_DAILY_SNAPSHOTS, declareSnapshots, snapshotPolicyDetails } from "./server/snapshots";
import { BACKUP_RETENTION_BOUNDS, DEFAULT_BACKUP_RETENTION_DAYS, declareBackups } from "./server/backups";
import { checkedWholeNumber, cidrsProblem } from "../provisioning/settingChecks";
import { authorizedKeys } from "./sshKeys";
import { stackServerName, tagsFor as componentTags } from "./tags";

/** What WebServer uses for each argument left out; the stack config's messages quote them as examples. */
export const WEB_SERVER_DEFAULTS = {
    ...EC2_DEFAULTS,
    dnsTtl: 300,
    dailySnapshots: DEFAULT_DAILY_SNAPSHOTS,
    backupRetentionDays: DEFAULT_BACKUP_RETENTION_DAYS,
} as const;

/** How WebServer configures its server: what runs there (buildPlan's settings) and how to reach it over SSH. */
export interface WebServerProvisioning extends ServerSettings {
    /** Whether a preview asks the server which files were changed by hand (RemoteProvisionerArgs.checkDrift). Defaults to true. */
    checkDrift?: boolean;
    /**
     * The app's own environment variables, secrets among them (API keys): they reach a root-only file
     * on the server that the app instances read, and stay encrypted in the state. Defaults to none.
     */
    appEnvironment?: pulumi.Input<Record<string, pulumi.Input<string>>>;
    /**
     * The private key matching sshPublicKey, as a secret; it is then kept in the state. Leave it out
     * to log in through the ssh-agent of the process that runs Pulumi (SSH_AUTH_SOCK), which must
     * hold the key matching sshPublicKey: the key never enters the config or the state.
     */
    sshPrivateKey?: pulumi.Input<string>;
    /** Login user of the image. Defaults to "admin" (Debian's cloud images). */
    sshUser?: string;
    /**
     * The server's host key ("ssh-ed25519 AAAA..."), to pin instead of the one the stack gives the
     * instance at its first boot: for a server created before the stack did so, or one whose key
     * was rotated by hand. Defaults to the stack's own.
     */
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
    /**
     * How many days the backup bucket keeps the server's database dumps and binary logs (and every
     * version an upload replaced). The server's role may add backups and read them, never delete
     * them. Defaults to 14.
     */
    backupRetentionDays?: number;
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
    /** The group a deploy run opens SSH in for itself (server/firewall.ts: deployAccessGroupName). */
    readonly deployAccessGroupId: pulumi.Output<string>;
    /** The bucket the server's database backups go to. */
    readonly backupBucket: pulumi.Output<string>;
    readonly provisioner: RemoteProvisioner | undefined;

    constructor(name: string, args: WebServerArgs, opts?: pulumi.ComponentResourceOptions) {
        super("webstack:index:WebServer", name, {}, opts);
        // Every argument is checked before any resource, so that bad settings fail before anything is created.
        const settings = checkedArgs(name, args, this);
        const context = { name, tagsFor: componentTags(name, args.tags), parent: this };
        const { securityGroup, deployAccess } = declareFirewall(context, {
            subnetId: args.subnetId,
            sshAllowedCidrs: args.sshAllowedCidrs,
            checkedCidrs: settings.checkedCidrs,
        });
        const backups = declareBackups(context, settings.backups);
        const hostKey = declareHostKey(context);
        const running = runningServer(context);
        const instance = declareInstance(context, {
            instanceType: settings.instanceType,
            amiId: args.amiId,
            subnetId: args.subnetId,
            rootVolumeSizeGiB: args.rootVolumeSizeGiB ?? WEB_SERVER_DEFAULTS.rootVolumeSizeGiB,
            sshPublicKey: args.sshPublicKey,
            securityGroupIds: [securityGroup.id, deployAccess.id],
            instanceProfile: backups.instanceProfile.name,
            userData: hostKey.userData,
            snapshotTarget: settings.snapshotTarget,
            running,
        });
        if (settings.snapshotPolicy !== undefined) {
            declareSnapshots(context, settings.snapshotPolicy);
        }
        const { elasticIp, records } = declareAddress(context, {
            instanceId: instance.id,
            domain: settings.domain,
            hostedZoneId: args.hostedZoneId,
            createApexRecord: args.createApexRecord ?? false,
            dnsTtl: args.dnsTtl ?? WEB_SERVER_DEFAULTS.dnsTtl,
        });

        this.provisioner =
            args.provisioning &&
            settings.plan &&
            new RemoteProvisioner(
                `${name}-provision`,
                {
                    connection: {
                        host: elasticIp.publicIp,
                        user: settings.sshUser,
                        privateKey: args.provisioning.sshPrivateKey,
                        hostKey:
                            args.provisioning.sshHostKey ??
                            pulumi.all([running, hostKey.publicKey]).apply(([server, publicKey]) => {
                                const problem = hostKeyProblem(server, publicKey);
                                if (problem !== undefined) {
                                    throw new pulumi.ResourceError(problem, this);
                                }
                                return publicKey;
                            }),
                    },
                    plan: settings.plan,
                    domain: settings.domain,
                    appEnvironment: settings.appEnvironment,
                    serverIdentity: [instance.id],
                    dnsReady: records,
                    checkDrift: args.provisioning.checkDrift,
                    authorizedKeys: authorizedKeys(args.sshPublicKey, args.provisioning.sshPrivateKey),
                    backupBucket: pulumi
                        .all([backups.bucket.bucket, backups.bucket.region])
                        .apply(([bucket, region]) => ({ bucket, region, prefix: settings.backups.prefix })),
                },
                // The backups leave the server from the backup-bucket step on, as a role that may write them.
                { parent: this, dependsOn: [elasticIp, backups.writerPolicy] },
            );

        if (args.alertEmail !== undefined) {
            const lastStep = this.provisioner?.lastStep;
            declareAlerts(context, {
                email: args.alertEmail,
                site: {
                    hostName: settings.hostName,
                    https: settings.https,
                    healthPath: settings.healthPath,
                    ready: lastStep === undefined ? records : [lastStep],
                },
                alarms: [
                    ...instanceAlarms(settings.instanceType).map((spec) => ({ spec, dimensions: { InstanceId: instance.id } })),
                    // Only a server the stack provisions ships its backups and reports on them.
                    ...(this.provisioner === undefined
                        ? []
                        : [...backupAlarms(), rebootPendingAlarm(args.provisioning?.maintenanceWindow !== undefined)]
                    ).map((spec) => ({
                        spec,
                        dimensions: { [SERVER_METRICS.dimension]: settings.backups.prefix },
                    })),
                ],
            });
        }

        this.instanceId = instance.id;
        this.publicIp = elasticIp.publicIp;
        this.hostName = settings.hostName;
        this.url = settings.domain.apply((apex) => siteUrl(apex, settings.https));
        this.sshCommand = pulumi.interpolate`ssh ${settings.sshUser}@${elasticIp.publicIp}`;
        this.deployAccessGroupId = deployAccess.id;
        this.backupBucket = backups.bucket.bucket;
        this.registerOutputs({
            backupBucket: this.backupBucket,
            deployAccessGroupId: this.deployAccessGroupId,
            instanceId: this.instanceId,
            publicIp: this.publicIp,
            hostName: this.hostName,
            url: this.url,
            sshCommand: this.sshCommand,
        });
    }
}

/**
 * WebServer's arguments checked and resolved, each problem a ResourceError on the component that
 * names the argument: the plan is built here, so a bad provisioning setting fails before any resource.
 */
function checkedArgs(name: string, args: WebServerArgs, component: WebServer) {
    const checked = checkerFor(component);
    if (args.provisioning !== undefined && args.https !== undefined) {
        throw new pulumi.ResourceError(
            `Only one of [https] and [provisioning] can be specified: with provisioning, its tls says whether the site serves HTTPS; https is ${args.https}.`,
            component,
        );
    }
    const checkedCidrs = (cidrs: readonly string[]): readonly string[] => {
        const problem = cidrsProblem("sshAllowedCidrs", cidrs);
        if (problem !== undefined) {
            throw new pulumi.ResourceError(problem, component);
        }
        return cidrs;
    };
    if (Array.isArray(args.sshAllowedCidrs) && args.sshAllowedCidrs.every((cidr) => typeof cidr === "string")) {
        checkedCidrs(args.sshAllowedCidrs as readonly string[]);
    }
    if (typeof args.sshPublicKey === "string") {
        checked(undefined, () => keyPairMaterial(args.sshPublicKey as string));
    }
    const dailySnapshots = checked(undefined, () =>
        checkedWholeNumber("dailySnapshots", args.dailySnapshots ?? WEB_SERVER_DEFAULTS.dailySnapshots, DAILY_SNAPSHOT_BOUNDS),
    );
    const snapshotTarget = stackServerName(name);
    const backupRetentionDays = checked(undefined, () =>
        checkedWholeNumber(
            "backupRetentionDays",
            args.backupRetentionDays ?? WEB_SERVER_DEFAULTS.backupRetentionDays,
            BACKUP_RETENTION_BOUNDS,
        ),
    );
    const sshUser = args.provisioning?.sshUser ?? DEFAULT_SSH_USER;
    const domain = checkedSiteDomain(args.domain, checked);
    return {
        instanceType: args.instanceType ?? WEB_SERVER_DEFAULTS.instanceType,
        snapshotTarget,
        backups: { prefix: snapshotTarget, retentionDays: backupRetentionDays },
        snapshotPolicy: dailySnapshots === 0 ? undefined : snapshotPolicyDetails(snapshotTarget, dailySnapshots),
        sshUser,
        https: args.provisioning !== undefined ? args.provisioning.tls !== undefined : (args.https ?? false),
        healthPath: args.provisioning?.release.healthPath ?? DEFAULT_HEALTH_PATH,
        domain,
        hostName: domain.apply(wwwHostName),
        // The stack owns this server and its login user: the plan keeps exactly the configured key and the one it connects with.
        plan:
            args.provisioning &&
            checked("provisioning", () => buildPlan({ ...(args.provisioning as ServerSettings), sshAccess: { user: sshUser } })),
        appEnvironment: args.provisioning && checkedAppEnvironment(args.provisioning.appEnvironment, component),
        checkedCidrs,
    };
}
