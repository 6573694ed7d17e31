/**
 * Alerts by mail: an SNS topic, Route53's health check of the site as visitors reach it, and
 * CloudWatch alarms, each firing and clearing into the topic. The alarms are data (AlarmSpec), chosen
 * per component: a single server's instance, or a fleet's load balancer and database.
 */
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import type { ComponentContext } from "./context";
import { SERVER_METRICS } from "../provisioning/layout";

/** Route53 health checks report their metrics in this region only, so their alarms and topic live there. */
const HEALTH_CHECK_METRICS_REGION = "us-east-1";

/**
 * The default provider's settings that a provider for another region must share: who it acts as
 * (credentials, roles), which accounts it may touch, how it reaches AWS, and the tags it adds. An
 * explicit provider reads no `aws:` stack config, so without them the alarms could land in another
 * account, or fail where the default provider works.
 */
export const SHARED_PROVIDER_SETTINGS = [
    "profile",
    "accessKey",
    "secretKey",
    "token",
    "assumeRoles",
    "assumeRoleWithWebIdentity",
    "allowedAccountIds",
    "forbiddenAccountIds",
    "sharedConfigFiles",
    "sharedCredentialsFiles",
    "customCaBundle",
    "httpProxy",
    "httpsProxy",
    "noProxy",
    "insecure",
    "maxRetries",
    "retryMode",
    "defaultTags",
    "ignoreTags",
    "skipCredentialsValidation",
    "skipRequestingAccountId",
] as const;

/** A provider's arguments for `region` that keep every {@link SHARED_PROVIDER_SETTINGS} of the stack's `aws:` config (set ones only). */
export function providerArgsForRegion(
    config: Partial<Record<(typeof SHARED_PROVIDER_SETTINGS)[number], unknown>>,
    region: string,
): aws.ProviderArgs {
    const shared = Object.fromEntries(SHARED_PROVIDER_SETTINGS.filter((key) => config[key] !== undefined).map((key) => [key, config[key]]));
    const secretKeys = ["accessKey", "secretKey", "token"].filter((key) => key in shared);
    return {
        ...shared,
        ...Object.fromEntries(secretKeys.map((key) => [key, pulumi.secret(shared[key] as string)])),
        region,
    } as aws.ProviderArgs;
}

/** Burstable families (t2, t3, t3a, t4g) spend CPU credits; an empty balance throttles the server or costs extra. */
function isBurstable(instanceType: string): boolean {
    return /^t\d/.test(instanceType);
}

/**
 * How a burstable type runs out of credits by default: t2 in standard mode, throttled at an empty
 * balance it starts with launch credits in; t3, t3a and t4g (EC2's default, and RDS's only mode)
 * unlimited, with no launch credits, so a new one's balance starts at zero and only a charge for
 * surplus credits says it runs short.
 */
export function creditMode(instanceType: string): "standard" | "unlimited" {
    return /^t2\./.test(instanceType) ? "standard" : "unlimited";
}

/**
 * How often Route53's checkers ask, and how many failures in a row make the site unhealthy to them:
 * a planned reboot of half a minute fails at most two checks in a row, so it never pages.
 */
export const SITE_HEALTH_CHECK_TIMING = { requestInterval: 30, failureThreshold: 3 } as const;

/** Route53's check of the site's health path as visitors reach it, from AWS's checkers around the world. */
function siteHealthCheck(hostName: pulumi.Input<string>, https: boolean, healthPath: string): Omit<aws.route53.HealthCheckArgs, "tags"> {
    return {
        type: https ? "HTTPS" : "HTTP",
        fqdn: hostName,
        port: https ? 443 : 80,
        resourcePath: healthPath,
        ...(https ? { enableSni: true } : {}),
        ...SITE_HEALTH_CHECK_TIMING,
    };
}

/** One CloudWatch alarm: what it watches and when it fires; the dimensions and actions are added where it is declared. */
export interface AlarmSpec {
    /** Names the alarm resource: `<name>-<suffix>-alarm`. */
    readonly suffix: string;
    readonly description: string;
    readonly namespace: string;
    readonly metricName: string;
    readonly statistic: "Minimum" | "Maximum" | "Average" | "Sum";
    readonly comparisonOperator: "LessThanThreshold" | "GreaterThanOrEqualToThreshold";
    readonly threshold: number;
    readonly period: number;
    readonly evaluationPeriods: number;
    /** No data from a health check or a status check means nobody can see the server: that is an alarm too. */
    readonly treatMissingData: "breaching" | "notBreaching";
}

/** Fires when most of Route53's checkers failed to get a 200 from the site for two minutes. */
export const SITE_DOWN_ALARM: AlarmSpec = {
    suffix: "site-down",
    description: "The site does not answer its health path with 200 for Route53's health checkers.",
    namespace: "AWS/Route53",
    metricName: "HealthCheckStatus",
    statistic: "Minimum",
    comparisonOperator: "LessThanThreshold",
    threshold: 1,
    period: 60,
    evaluationPeriods: 2,
    treatMissingData: "breaching",
};

/**
 * A burstable machine (an EC2 instance or an RDS database, by `namespace`) short of CPU credits: in
 * standard mode a balance near empty, in unlimited mode surplus credits charged ({@link creditMode}).
 */
function cpuCreditsAlarm(namespace: "AWS/EC2" | "AWS/RDS", suffix: string, machine: string, instanceType: string): AlarmSpec {
    const watched = { suffix, namespace, period: 300, treatMissingData: "notBreaching" } as const;
    return creditMode(instanceType) === "standard"
        ? {
              ...watched,
              description: `The ${machine} has almost no CPU credits left: it is throttled to its baseline.`,
              metricName: "CPUCreditBalance",
              statistic: "Minimum",
              comparisonOperator: "LessThanThreshold",
              threshold: 20,
              evaluationPeriods: 3,
          }
        : {
              ...watched,
              description: `The ${machine} spends more CPU than its baseline earns, and AWS charges for the surplus credits: a bigger type, or the load to find.`,
              metricName: "CPUSurplusCreditsCharged",
              statistic: "Sum",
              comparisonOperator: "GreaterThanOrEqualToThreshold",
              threshold: 1,
              evaluationPeriods: 1,
          };
}

/** The instance's own alarms: failed status checks, and for burstable types a CPU credit balance running out. */
export function instanceAlarms(instanceType: string): AlarmSpec[] {
    const statusCheck: AlarmSpec = {
        suffix: "status-check",
        description: "The instance or its host fails EC2's status checks.",
        namespace: "AWS/EC2",
        metricName: "StatusCheckFailed",
        statistic: "Maximum",
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        threshold: 1,
        period: 60,
        evaluationPeriods: 2,
        treatMissingData: "breaching",
    };
    return isBurstable(instanceType) ? [statusCheck, cpuCreditsAlarm("AWS/EC2", "cpu-credits", "instance", instanceType)] : [statusCheck];
}

/** A verified restore runs every night; two hours more leave room for a slow one. */
const VERIFIED_RESTORE_MAX_AGE_SECONDS = 26 * 3600;
/** Shipping runs every half minute: five minutes behind is ten runs that failed. */
const BACKUPS_SHIPPED_MAX_AGE_SECONDS = 5 * 60;
const ROOT_DISK_MAX_USED_PERCENT = 85;

/**
 * A single server's backup alarms, on the metrics it reports itself every minute
 * (`webstack-report-metrics`, dimension {@link SERVER_METRICS}.dimension). A server that stops
 * reporting fires the shipping alarm: nobody knows its backups leave it.
 */
export function backupAlarms(): AlarmSpec[] {
    const reported = {
        namespace: SERVER_METRICS.namespace,
        statistic: "Maximum",
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        period: 300,
        evaluationPeriods: 1,
    } as const;
    return [
        {
            ...reported,
            suffix: "backup-not-verified",
            description:
                "No restore of the backup bucket's newest backup has succeeded for 26 hours: see `journalctl -u webstack-verify-backups` on the server.",
            metricName: SERVER_METRICS.secondsSinceVerifiedRestore,
            threshold: VERIFIED_RESTORE_MAX_AGE_SECONDS,
            treatMissingData: "notBreaching",
        },
        {
            ...reported,
            suffix: "backup-shipping-behind",
            description:
                "The database's binary logs have not reached the backup bucket for 5 minutes, or the server stopped reporting: see `journalctl -u webstack-ship-backups` on the server.",
            metricName: SERVER_METRICS.secondsSinceBackupsShipped,
            threshold: BACKUPS_SHIPPED_MAX_AGE_SECONDS,
            treatMissingData: "breaching",
        },
        {
            ...reported,
            suffix: "root-disk-full",
            description: `The server's root disk is ${ROOT_DISK_MAX_USED_PERCENT} % full or more: a bigger rootVolumeSizeGiB, or old data to remove.`,
            metricName: SERVER_METRICS.rootDiskUsedPercent,
            threshold: ROOT_DISK_MAX_USED_PERCENT,
            treatMissingData: "notBreaching",
        },
    ];
}

/** Without a window the operator reboots: an hour after an update asked is time enough to say so. */
const REBOOT_PENDING_WITHOUT_WINDOW_SECONDS = 3600;
/** With a weekly window the server reboots by itself: a reboot pending for longer missed one, its backup having failed. */
const REBOOT_PENDING_WITH_WINDOW_SECONDS = 8 * 24 * 3600;

/**
 * A single server's pending reboot, on the metric it reports every minute: without a maintenance
 * window, the operator's cue to reboot it; with one, a sign that the window passed without the reboot.
 */
export function rebootPendingAlarm(hasMaintenanceWindow: boolean): AlarmSpec {
    return {
        suffix: "reboot-pending",
        description: hasMaintenanceWindow
            ? "An update asked for a reboot more than 8 days ago and the maintenance window passed without it: see `journalctl -u webstack-reboot` on the server."
            : "An update asked for a reboot an hour ago or more, and the server has no maintenance window to reboot in: reboot it (`sudo webstack-reboot-if-required` backs up first), or set webstack:maintenanceWindow.",
        namespace: SERVER_METRICS.namespace,
        metricName: SERVER_METRICS.secondsRebootPending,
        statistic: "Maximum",
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        threshold: hasMaintenanceWindow ? REBOOT_PENDING_WITH_WINDOW_SECONDS : REBOOT_PENDING_WITHOUT_WINDOW_SECONDS,
        period: 300,
        evaluationPeriods: 1,
        treatMissingData: "notBreaching",
    };
}

/** Where a fleet's alarm looks: the load balancer, its app servers' target group, or the database. */
export type FleetAlarmScope = "loadBalancer" | "targetGroup" | "database";

/** How many 5xx answers in five minutes are more than a deploy's or a failover's few: someone should look. */
const FLEET_ERRORS_PER_FIVE_MINUTES = 20;
/** Free space left on the database's volume once RDS has grown it as far as it may. */
const DATABASE_FREE_STORAGE_BYTES = 2 * 1024 ** 3;

/**
 * A fleet's alarms. No status checks: Auto Scaling replaces a server its load balancer finds
 * unhealthy by itself, so what is worth a mail is a server that stays unhealthy, answers that fail,
 * and a database running short.
 */
export function fleetAlarms(databaseInstanceClass: string): { readonly scope: FleetAlarmScope; readonly spec: AlarmSpec }[] {
    const sumOver5Minutes = {
        statistic: "Sum",
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        threshold: FLEET_ERRORS_PER_FIVE_MINUTES,
        period: 300,
        evaluationPeriods: 1,
        treatMissingData: "notBreaching",
    } as const;
    const alarms: { scope: FleetAlarmScope; spec: AlarmSpec }[] = [
        {
            scope: "targetGroup",
            spec: {
                suffix: "unhealthy-servers",
                description:
                    "An app server has failed the load balancer's health check for three minutes (Auto Scaling replaces it; one that keeps failing means a bad release or image).",
                namespace: "AWS/ApplicationELB",
                metricName: "UnHealthyHostCount",
                statistic: "Maximum",
                comparisonOperator: "GreaterThanOrEqualToThreshold",
                threshold: 1,
                period: 60,
                evaluationPeriods: 3,
                treatMissingData: "notBreaching",
            },
        },
        {
            scope: "loadBalancer",
            spec: {
                ...sumOver5Minutes,
                suffix: "app-errors",
                description: `The app servers answered ${FLEET_ERRORS_PER_FIVE_MINUTES} or more requests with a 5xx in five minutes (the app's 503 when the database does not answer among them).`,
                namespace: "AWS/ApplicationELB",
                metricName: "HTTPCode_Target_5XX_Count",
            },
        },
        {
            scope: "loadBalancer",
            spec: {
                ...sumOver5Minutes,
                suffix: "load-balancer-errors",
                description: `The load balancer itself answered ${FLEET_ERRORS_PER_FIVE_MINUTES} or more requests with a 5xx in five minutes: no healthy server, or servers that dropped connections.`,
                namespace: "AWS/ApplicationELB",
                metricName: "HTTPCode_ELB_5XX_Count",
            },
        },
        {
            scope: "database",
            spec: {
                suffix: "database-cpu",
                description:
                    "The database's CPU has averaged 90 % or more for fifteen minutes: a bigger databaseInstanceClass, or a slow query to find.",
                namespace: "AWS/RDS",
                metricName: "CPUUtilization",
                statistic: "Average",
                comparisonOperator: "GreaterThanOrEqualToThreshold",
                threshold: 90,
                period: 300,
                evaluationPeriods: 3,
                treatMissingData: "notBreaching",
            },
        },
        {
            scope: "database",
            spec: {
                suffix: "database-storage",
                description: "The database has less than 2 GiB of storage left, RDS's automatic growth included.",
                namespace: "AWS/RDS",
                metricName: "FreeStorageSpace",
                statistic: "Minimum",
                comparisonOperator: "LessThanThreshold",
                threshold: DATABASE_FREE_STORAGE_BYTES,
                period: 300,
                evaluationPeriods: 1,
                treatMissingData: "notBreaching",
            },
        },
    ];
    const databaseType = databaseInstanceClass.replace(/^db\./, "");
    return isBurstable(databaseType)
        ? [...alarms, { scope: "database", spec: cpuCreditsAlarm("AWS/RDS", "database-cpu-credits", "database", databaseType) }]
        : alarms;
}

export interface AlertSettings {
    readonly email: pulumi.Input<string>;
    /** The site as visitors reach it, for Route53's health check, which starts once `ready` exist (the last provisioning step). */
    readonly site: {
        readonly hostName: pulumi.Input<string>;
        readonly https: boolean;
        readonly healthPath: string;
        readonly ready?: pulumi.Resource[];
    };
    /** The component's own alarms, each with the dimensions that name what it watches. */
    readonly alarms: readonly { readonly spec: AlarmSpec; readonly dimensions: Record<string, pulumi.Input<string>> }[];
}

/**
 * An SNS topic mailing `email`, the health check of the site and the alarms, each notifying the
 * topic when it fires and when it clears. The health check's alarm and its topic live in
 * {@link HEALTH_CHECK_METRICS_REGION}, where Route53 publishes the metric.
 */
export function declareAlerts(context: ComponentContext, alerts: AlertSettings): void {
    const { name, tagsFor } = context;
    const parent = { parent: context.parent };
    const mailingTopic = (suffix: string, options: pulumi.CustomResourceOptions) => {
        const topic = new aws.sns.Topic(`${name}-${suffix}`, { tags: tagsFor(suffix) }, options);
        new aws.sns.TopicSubscription(`${name}-${suffix}-email`, { topic: topic.arn, protocol: "email", endpoint: alerts.email }, options);
        return topic;
    };
    const alarm = (
        spec: AlarmSpec,
        dimensions: Record<string, pulumi.Input<string>>,
        topic: aws.sns.Topic,
        options: pulumi.CustomResourceOptions,
    ) =>
        new aws.cloudwatch.MetricAlarm(
            `${name}-${spec.suffix}-alarm`,
            {
                alarmDescription: `webstack ${name}: ${spec.description}`,
                namespace: spec.namespace,
                metricName: spec.metricName,
                statistic: spec.statistic,
                comparisonOperator: spec.comparisonOperator,
                threshold: spec.threshold,
                period: spec.period,
                evaluationPeriods: spec.evaluationPeriods,
                treatMissingData: spec.treatMissingData,
                dimensions,
                alarmActions: [topic.arn],
                okActions: [topic.arn],
                tags: tagsFor(`${spec.suffix}-alarm`),
            },
            options,
        );

    const topic = mailingTopic("alerts", parent);
    for (const { spec, dimensions } of alerts.alarms) {
        alarm(spec, dimensions, topic, parent);
    }

    // Checking a site that is still being configured would mail "site down" on every new stack.
    const healthCheck = new aws.route53.HealthCheck(
        `${name}-health-check`,
        { ...siteHealthCheck(alerts.site.hostName, alerts.site.https, alerts.site.healthPath), tags: tagsFor("health-check") },
        { ...parent, dependsOn: alerts.site.ready },
    );
    const metricsRegion = new aws.Provider(
        `${name}-${HEALTH_CHECK_METRICS_REGION}`,
        providerArgsForRegion(aws.config, HEALTH_CHECK_METRICS_REGION),
        parent,
    );
    const inMetricsRegion = { parent: context.parent, provider: metricsRegion };
    alarm(
        SITE_DOWN_ALARM,
        { HealthCheckId: healthCheck.id },
        mailingTopic(`alerts-${HEALTH_CHECK_METRICS_REGION}`, inMetricsRegion),
        inMetricsRegion,
    );
}
