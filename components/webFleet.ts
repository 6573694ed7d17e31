import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { buildFleetPlan, type FleetInputs, type FleetServerSettings, type MaintenanceSettings } from "../provisioning";
import { APP_DATABASE, DEFAULT_HEALTH_PATH } from "../provisioning/layout";
import { siteUrl, wwwHostName } from "../provisioning/site";
import { declareAlerts, fleetAlarms, type FleetAlarmScope } from "./alerts";
import { checkedSiteDomain, EC2_DEFAULTS, siteZoneId } from "./ec2";
import { declareAppRole, declareAppServers } from "./fleet/appServers";
import { checkedDatabaseMaintenanceWindow, declareAppDatabaseSecret, declareDatabase, rdsCaBundle } from "./fleet/database";
import { checkedFleetName, declareLoadBalancer } from "./fleet/loadBalancer";
import { checkedFleetMaintenance, declareMaintenanceRules } from "./fleet/maintenanceRules";
import { declareNetwork } from "./fleet/network";
import { declarePlanBucket, declarePlanObjects } from "./fleet/planBucket";
import { declareReleaseWait } from "./fleet/releaseWait";
import { checkedAppEnvironment } from "./remoteProvisioner";
import { checkerFor } from "./resourceErrors";
import { appServerRangeProblem, checkedWholeNumber, type IntegerBounds, throwIf } from "../provisioning/settingChecks";
import { tagsFor as componentTags } from "./tags";

/** What WebFleet uses for each argument left out; the stack config's messages quote them as examples. */
export const WEB_FLEET_DEFAULTS = {
    ...EC2_DEFAULTS,
    minAppServers: 2,
    maxAppServers: 4,
    databaseInstanceClass: "db.t4g.micro",
    databaseStorageGiB: 20,
    databaseBackupRetentionDays: 7,
    databaseApplyImmediately: false,
} as const;

/** RDS keeps automated backups, and so restores to any second, for 1 to 35 days. */
export const MAX_DATABASE_BACKUP_RETENTION_DAYS = 35;

/** How many days RDS may keep the database's automated backups. */
export const DATABASE_BACKUP_RETENTION_BOUNDS: IntegerBounds = {
    min: 1,
    max: MAX_DATABASE_BACKUP_RETENTION_DAYS,
    example: WEB_FLEET_DEFAULTS.databaseBackupRetentionDays,
};

/** A fleet keeps at least two app servers, one per zone at least, so that losing one leaves the site up. */
export const MIN_APP_SERVERS = 2;

/** The most app servers a fleet scales out to. */
export const MAX_APP_SERVERS = 20;

/** The sizes a fleet may keep at least, and scale out to at most. */
export const MIN_APP_SERVER_BOUNDS: IntegerBounds = {
    min: MIN_APP_SERVERS,
    max: MAX_APP_SERVERS,
    example: WEB_FLEET_DEFAULTS.minAppServers,
};
export const MAX_APP_SERVER_BOUNDS: IntegerBounds = {
    min: MIN_APP_SERVERS,
    max: MAX_APP_SERVERS,
    example: WEB_FLEET_DEFAULTS.maxAppServers,
};

/** How the app servers are counted: at least {@link MIN_APP_SERVERS}, and a maximum no lower than the minimum. */
export function appServerBounds(min: number, max: number): { min: number; max: number } {
    checkedWholeNumber("minAppServers", min, MIN_APP_SERVER_BOUNDS);
    checkedWholeNumber("maxAppServers", max, MAX_APP_SERVER_BOUNDS);
    throwIf(appServerRangeProblem({ min: "minAppServers", max: "maxAppServers" }, min, max));
    return { min, max };
}

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
     * The IAM roles and users that run `pulumi up` or refresh on this stack (the deploy role, a
     * colleague), never the pull requests' preview role: with the app servers' role, the only
     * principals that may read the plan's objects, the app's secret environment among them. Name them
     * all, or each other identity meets a diff and a 403 on read-back; the one running `up` must be
     * among them. Defaults to the bucket's creator and whoever runs `up`.
     */
    deployerArns?: string[];
    /** Also serve the apex <domain> (in the certificate, and an alias record; nginx redirects it to www). Defaults to false. */
    createApexRecord?: boolean;
    /** The fewest app servers the group keeps, 2 or more. Defaults to 2. */
    minAppServers?: number;
    /** The most app servers the group scales out to. Defaults to the larger of 4 and `minAppServers`. */
    maxAppServers?: number;
    /** The database's RDS instance class. Defaults to "db.t4g.micro". */
    databaseInstanceClass?: string;
    /** The database's first storage in GiB; RDS grows it up to five times as needed. Defaults to 20. */
    databaseStorageGiB?: number;
    /** Days RDS keeps the database's automated backups, the window a point-in-time restore reaches into, 1 to 35. Defaults to 7. */
    databaseBackupRetentionDays?: number;
    /**
     * Apply the database's changes that restart it (its class above all, a Multi-AZ failover of a
     * minute or so) while `pulumi up` runs, rather than in its weekly maintenance window
     * (`maintenanceWindow`); until then every preview shows the change again
     * (docs/database-changes.md). Defaults to false.
     */
    databaseApplyImmediately?: boolean;
    /**
     * The database's weekly hour of maintenance, from a day and a time in UTC (`Sun 03:00`): RDS
     * applies its patches and the changes that restart it then. It may not overlap the daily backup
     * at 02:00-02:30. Defaults to `Sun 03:00`.
     */
    maintenanceWindow?: string;
    /**
     * Mail this address (an SNS subscription to confirm) when the site stops answering its health
     * path for Route53's checkers, a server stays unhealthy, answers fail, or the database runs short
     * ({@link fleetAlarms}), and again when each recovers. Defaults to no alerts.
     */
    alertEmail?: pulumi.Input<string>;
    /** Tags added to every AWS resource, besides Name, project and stack. Defaults to none. */
    tags?: Record<string, string>;
    /**
     * Maintenance mode, at the load balancer (./fleet/maintenanceRules.ts): 503 with the message to
     * everyone but the allowed blocks, at most five. Defaults to off.
     */
    maintenance?: MaintenanceSettings;
    /** What every app server runs (buildFleetPlan's settings), and the app's own environment. */
    provisioning: FleetServerSettings & { appEnvironment?: pulumi.Input<Record<string, pulumi.Input<string>>> };
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
        const context = { name, tagsFor: componentTags(name, args.tags), parent: this };
        const instanceType = args.instanceType ?? WEB_FLEET_DEFAULTS.instanceType;
        const createApexRecord = args.createApexRecord ?? false;
        const databaseInstanceClass = args.databaseInstanceClass ?? WEB_FLEET_DEFAULTS.databaseInstanceClass;
        const databaseBackupRetentionDays = args.databaseBackupRetentionDays ?? WEB_FLEET_DEFAULTS.databaseBackupRetentionDays;
        checked(undefined, () =>
            checkedWholeNumber("databaseBackupRetentionDays", databaseBackupRetentionDays, DATABASE_BACKUP_RETENTION_BOUNDS),
        );
        checked(undefined, () => checkedFleetName(name));
        const bounds = checked(undefined, () =>
            appServerBounds(
                args.minAppServers ?? WEB_FLEET_DEFAULTS.minAppServers,
                args.maxAppServers ?? Math.max(WEB_FLEET_DEFAULTS.maxAppServers, args.minAppServers ?? 0),
            ),
        );
        const domain = checkedSiteDomain(args.domain, checked);
        const hostName = domain.apply(wwwHostName);
        // Built before any resource, so that bad settings fail before anything is created.
        const plan = checked("provisioning", () => buildFleetPlan(args.provisioning));
        const maintenance = checked(undefined, () => checkedFleetMaintenance(args.maintenance ?? {}));
        const databaseMaintenanceWindow = checked(undefined, () => checkedDatabaseMaintenanceWindow(args.maintenanceWindow));
        const appEnvironment = checkedAppEnvironment(args.provisioning.appEnvironment, this);
        const region = aws.getRegionOutput({}, parent).apply((current) => current.region);

        const network = declareNetwork(context, { instanceType, subnetIds: args.subnetIds, checked });
        const database = declareDatabase(context, {
            subnetIds: network.subnetIds,
            securityGroupId: network.groups.database.id,
            instanceClass: databaseInstanceClass,
            storageGiB: args.databaseStorageGiB ?? WEB_FLEET_DEFAULTS.databaseStorageGiB,
            backupRetentionDays: databaseBackupRetentionDays,
            applyImmediately: args.databaseApplyImmediately ?? WEB_FLEET_DEFAULTS.databaseApplyImmediately,
            maintenanceWindow: databaseMaintenanceWindow,
        });
        const masterSecretArn = database.masterUserSecrets.apply((secrets) => secrets[0].secretArn);
        const appDatabaseSecret = declareAppDatabaseSecret(context);

        const role = declareAppRole(context);
        const { bucket, versioning } = declarePlanBucket(context, { appServerRoleArn: role.arn, deployerArns: args.deployerArns });
        const fleet = fleetInputs({
            region,
            vpcCidr: network.vpcCidr,
            database,
            masterSecretArn,
            appSecretArn: appDatabaseSecret.secret.arn,
        });
        const planIndex = declarePlanObjects(context, plan, { bucket, versioning, domain, fleet, appEnvironment });

        const { loadBalancer, targetGroup, httpsListener } = declareLoadBalancer(context, {
            subnetIds: network.subnetIds,
            vpcId: network.vpcId,
            securityGroupId: network.groups.loadBalancer.id,
            domain,
            createApexRecord,
            zoneId: siteZoneId(domain, args.hostedZoneId, parent),
        });
        declareMaintenanceRules(context, { listenerArn: httpsListener.arn, targetGroupArn: targetGroup.arn, settings: maintenance });
        const group = declareAppServers(context, {
            role,
            instanceType,
            amiId: args.amiId,
            rootVolumeSizeGiB: args.rootVolumeSizeGiB ?? WEB_FLEET_DEFAULTS.rootVolumeSizeGiB,
            bounds,
            subnetIds: network.subnetIds,
            securityGroupId: network.groups.app.id,
            targetGroupArn: targetGroup.arn,
            plan: { region, bucket, indexVersionId: planIndex.versionId, indexSha256: planIndex.sha256 },
            databaseSecretArns: [masterSecretArn, appDatabaseSecret.secret.arn],
            planReady: [planIndex.object],
            databaseReady: [database, appDatabaseSecret.value],
        });
        declareReleaseWait(context, { group, region, bounds });

        if (args.alertEmail !== undefined) {
            const dimensions = fleetAlarmDimensions(loadBalancer, targetGroup, database);
            declareAlerts(context, {
                email: args.alertEmail,
                // The group's creation waits for its first servers to pass the load balancer's check (capacityWait).
                site: { hostName, https: true, healthPath: args.provisioning.release.healthPath ?? DEFAULT_HEALTH_PATH, ready: [group] },
                alarms: fleetAlarms(databaseInstanceClass).map(({ scope, spec }) => ({ spec, dimensions: dimensions[scope] })),
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

/** What the fleet step renders from: the region, who may reach the app servers, and the database and its secrets. */
function fleetInputs(parts: {
    region: pulumi.Output<string>;
    vpcCidr: pulumi.Output<string>;
    database: aws.rds.Instance;
    masterSecretArn: pulumi.Output<string>;
    appSecretArn: pulumi.Output<string>;
}): pulumi.Output<FleetInputs> {
    return pulumi
        .all([parts.region, parts.vpcCidr, parts.database.address, parts.database.port, parts.masterSecretArn, parts.appSecretArn])
        .apply(([region, cidr, host, port, masterSecretArn, appSecretArn]) => ({
            region,
            loadBalancerCidrs: [cidr],
            database: { host, port, name: APP_DATABASE, masterSecretArn, appSecretArn, trustedCaPem: rdsCaBundle() },
        }));
}

/** The CloudWatch dimensions that each scope of {@link fleetAlarms} watches. */
function fleetAlarmDimensions(
    loadBalancer: aws.lb.LoadBalancer,
    targetGroup: aws.lb.TargetGroup,
    database: aws.rds.Instance,
): Record<FleetAlarmScope, Record<string, pulumi.Input<string>>> {
    return {
        loadBalancer: { LoadBalancer: loadBalancer.arnSuffix },
        targetGroup: { LoadBalancer: loadBalancer.arnSuffix, TargetGroup: targetGroup.arnSuffix },
        database: { DBInstanceIdentifier: database.identifier },
    };
}
