import * as pulumi from "@pulumi/pulumi";
import { buildPlan, type ServerSettings } from "../provisioning";
import { keyPairMaterial } from "../provisioning/formats";
import { DEFAULT_HEALTH_PATH, SERVER_METRICS } from "../provisioning/layout";
import { siteUrl, wwwHostName } from "../provisioning/site";
import { checkedSiteDomain, currentPublicIp, EC2_DEFAULTS } from "./ec2";
import type * as command from "@pulumi/command";
import type * as aws from "@pulumi/aws";
import {
    checkedAppEnvironment,
    commandConnection,
    DEFAULT_CONNECT_TIMEOUT_SECONDS,
    DEFAULT_SSH_USER,
    RemoteProvisioner,
    type RemoteProvisionerArgs,
} from "./remoteProvisioner";
import {
    DEFAULT_SERVER_GENERATIONS,
    generationResourceName,
    generationRoles,
    generationsProblem,
    serverGenerationsProblem,
} from "./server/generations";
import { declareCertificateCopy, declareMove } from "./server/move";
import { backupAlarms, declareAlerts, instanceAlarms, rebootPendingAlarm } from "./alerts";
import { checkerFor } from "./resourceErrors";
import { declareAddress } from "./server/address";
import { declareFirewall } from "./server/firewall";
import { declareHostKey } from "./server/hostKey";
import {
    declareInstance,
    declareInstanceState,
    declareKeyPair,
    existingGenerations,
    hostKeyProblem,
    runningServer,
} from "./server/instance";
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
     * was rotated by hand. It is generation 1's (serverGenerations): a later server is the stack's
     * own, with the stack's key. Defaults to the stack's own.
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
    /**
     * The servers the stack keeps, by generation, the one that serves first: `[2, 1]` builds server 2
     * with the same plan and moves the site to it under load, then keeps server 1 stopped; `[1, 2]`
     * moves it back. A new server takes a number higher than the one it takes over from. At most two
     * are kept besides the one that serves; one dropped from the list is deleted. Needs `provisioning`;
     * with TLS, the certificate moves too. Defaults to `[1]` (docs/replacement.md).
     */
    serverGenerations?: readonly number[];
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
        const keyPair = declareKeyPair(context, args.sshPublicKey);
        const roles = generationRoles(settings.generations);
        const running = runningServer(context, roles.serving);
        const generationsChecked = existingGenerations(context).apply((existing) => {
            const problem = generationsProblem(settings.generations, existing);
            if (problem !== undefined) {
                throw new pulumi.ResourceError(`serverGenerations ${problem}.`, this);
            }
            return true;
        });
        const instances = new Map(
            settings.generations.map((generation) => [
                generation,
                declareInstance(context, {
                    generation,
                    serving: generation === roles.serving,
                    keyName: keyPair.keyName,
                    instanceType: settings.instanceType,
                    amiId: args.amiId,
                    subnetId: args.subnetId,
                    rootVolumeSizeGiB: args.rootVolumeSizeGiB ?? WEB_SERVER_DEFAULTS.rootVolumeSizeGiB,
                    securityGroupIds: [securityGroup.id, deployAccess.id],
                    instanceProfile: backups.instanceProfile.name,
                    userData: hostKey.userData,
                    snapshotTarget: settings.snapshotTarget,
                    running,
                    generationsChecked,
                }),
            ]),
        );
        const instanceOf = (generation: number) => instances.get(generation) as aws.ec2.Instance;
        const instance = instanceOf(roles.serving);
        if (settings.snapshotPolicy !== undefined) {
            declareSnapshots(context, settings.snapshotPolicy);
        }
        const keepsServers = settings.generations.length > 1;
        // The serving server runs (started again when the site moves back to it); a kept one is stopped once the address has left it.
        const servingState = keepsServers ? declareInstanceState(context, roles.serving, instance.id, "running") : undefined;
        const servingId = servingState?.instanceId ?? instance.id;
        // Generation 1 may have been launched before the stack gave its servers their host key; it pins its own.
        const hostKeyOf = (generation: number): pulumi.Input<string> => {
            if (generation === 1 && args.provisioning?.sshHostKey !== undefined) {
                return args.provisioning.sshHostKey;
            }
            return pulumi.all([running, hostKey.publicKey]).apply(([server, publicKey]) => {
                const problem = generation === roles.serving ? hostKeyProblem(server, publicKey) : undefined;
                if (problem !== undefined) {
                    throw new pulumi.ResourceError(problem, this);
                }
                return publicKey;
            });
        };
        const provisionerArgs = (
            host: pulumi.Input<string>,
            dnsReady: pulumi.Resource[],
            after: pulumi.Resource[] = [],
        ): RemoteProvisionerArgs | undefined =>
            args.provisioning &&
            settings.plan && {
                connection: {
                    host,
                    user: settings.sshUser,
                    privateKey: args.provisioning.sshPrivateKey,
                    hostKey: hostKeyOf(roles.serving),
                },
                plan: settings.plan,
                domain: settings.domain,
                appEnvironment: settings.appEnvironment,
                serverIdentity: [instance.id],
                dnsReady,
                after,
                checkDrift: args.provisioning.checkDrift,
                authorizedKeys: authorizedKeys(args.sshPublicKey, args.provisioning.sshPrivateKey),
                backupBucket: pulumi
                    .all([backups.bucket.bucket, backups.bucket.region])
                    .apply(([bucket, region]) => ({ bucket, region, prefix: settings.backups.prefix })),
            };
        const provisionerName = generationResourceName(`${name}-provision`, roles.serving);
        const move = roles.move;
        // While the stack keeps servers, each is reached at the public address EC2 gives it now: the Elastic IP once it has it.
        const reached = (instanceId: pulumi.Input<string>) => currentPublicIp(instanceId, { parent: this });
        // A new server is configured before the site moves to it, at its own address (not through the
        // records, which wait for the address to move); a server the site moves back to, once it has.
        const replacementConnection = moveConnection(reached(servingId), hostKeyOf(roles.serving), settings.sshUser, args.provisioning);
        const oldConnection =
            move && moveConnection(reached(instanceOf(move.from).id), hostKeyOf(move.from), settings.sshUser, args.provisioning);
        const certificates =
            move?.how === "follow" && oldConnection !== undefined && settings.https
                ? [declareCertificateCopy(context, move, { old: oldConnection, replacement: replacementConnection })]
                : [];
        const configuredFirst =
            move?.how === "follow"
                ? optionalProvisioner(provisionerName, provisionerArgs(reached(servingId), [], certificates), [backups.writerPolicy], this)
                : undefined;
        const moved =
            move &&
            declareMove(context, move, {
                old: oldConnection as command.types.input.remote.ConnectionArgs,
                replacement: replacementConnection,
                oldPrivateAddress: instanceOf(move.from).privateIp,
                oldHostKey: hostKeyOf(move.from),
                after:
                    move.how === "follow"
                        ? configuredFirst?.lastStep === undefined
                            ? []
                            : [configuredFirst.lastStep]
                        : servingState
                          ? [servingState]
                          : [],
            });
        const { elasticIp, records } = declareAddress(context, {
            // The address moves once the new server has taken the writes.
            instanceId: moved === undefined ? servingId : pulumi.all([servingId, moved.promoted]).apply(([id]) => id),
            domain: settings.domain,
            hostedZoneId: args.hostedZoneId,
            createApexRecord: args.createApexRecord ?? false,
            dnsTtl: args.dnsTtl ?? WEB_SERVER_DEFAULTS.dnsTtl,
        });
        for (const generation of roles.kept) {
            declareInstanceState(context, generation, instanceOf(generation).id, "stopped", [elasticIp]);
        }

        this.provisioner =
            configuredFirst ??
            optionalProvisioner(
                provisionerName,
                provisionerArgs(
                    keepsServers ? reached(pulumi.all([servingId, elasticIp.instance]).apply(([id]) => id)) : elasticIp.publicIp,
                    records,
                ),
                // The backups leave the server from the backup-bucket step on, as a role that may write them.
                [elasticIp, backups.writerPolicy],
                this,
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
    const generations = checked(undefined, () =>
        checkedGenerations(args.serverGenerations ?? DEFAULT_SERVER_GENERATIONS, args.provisioning),
    );
    return {
        instanceType: args.instanceType ?? WEB_SERVER_DEFAULTS.instanceType,
        generations,
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

/** A RemoteProvisioner when the server is configured (`args` given), parented to the component. */
function optionalProvisioner(
    name: string,
    args: RemoteProvisionerArgs | undefined,
    dependsOn: pulumi.Input<pulumi.Resource>[],
    parent: pulumi.Resource,
): RemoteProvisioner | undefined {
    return args && new RemoteProvisioner(name, args, { parent, dependsOn });
}

/** How a move's step reaches a server: as the provisioner does, with its key or through the agent. */
function moveConnection(
    host: pulumi.Input<string>,
    hostKey: pulumi.Input<string>,
    user: string,
    provisioning: WebServerProvisioning | undefined,
): command.types.input.remote.ConnectionArgs {
    return commandConnection({ host, user, privateKey: provisioning?.sshPrivateKey, hostKey }, DEFAULT_CONNECT_TIMEOUT_SECONDS);
}

/** The server generations, checked: a list of servers, and a move only for a server the stack configures. */
function checkedGenerations(generations: readonly number[], provisioning: WebServerProvisioning | undefined): readonly number[] {
    const problem =
        serverGenerationsProblem(generations.join(",")) ??
        (generations.length > 1 && provisioning === undefined
            ? `lists ${generations.length} servers (${generations.join(",")}), but the site moves between servers through the commands its plan installs; give provisioning, or keep one server`
            : undefined);
    if (problem !== undefined) {
        throw new Error(`serverGenerations ${problem}.`);
    }
    return generations;
}
