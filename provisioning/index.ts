import { healthPathProblem, isEmailAddress, isHttpsUrl } from "./formats";
import { API_CACHE_SECONDS_BOUNDS, DEFAULT_API_CACHE_SECONDS } from "./files/nginx";
import { maintenanceProblems, type MaintenanceSettings } from "./files/maintenance";
import { parseMaintenanceWindow, type MaintenanceWindow } from "./files/reboots";
import { APP_INSTANCE_BOUNDS, DEFAULT_APP_INSTANCES } from "./layout";
import { checkedWholeNumber } from "./settingChecks";
import { Plan, checkedPlan } from "./plan";
import { appStep } from "./steps/app";
import { appEnvironmentStep } from "./steps/appEnvironment";
import { backupBucketStep, backupsStep } from "./steps/backups";
import { baseStep, FLEET_FIREWALL_PORTS } from "./steps/base";
import { bootstrapStep } from "./steps/bootstrap";
import { certbotStep } from "./steps/certbot";
import { databaseStep } from "./steps/database";
import { fleetStep } from "./steps/fleet";
import { hardeningStep } from "./steps/hardening";
import { FLEET_PACKAGES, packagesStep } from "./steps/packages";
import { maintenanceStep } from "./steps/maintenance";
import { nginxSiteStep, nginxTlsStep } from "./steps/nginx";
import { rebootsStep } from "./steps/reboots";
import { replicationStep } from "./steps/replication";
import { type Release, releaseIdProblem } from "../release/release";
import { releaseSteps } from "./steps/release";
import { sshAccessStep } from "./steps/sshAccess";

export * from "./plan";
export type { Release } from "../release/release";
export type { MaintenanceSettings } from "./files/maintenance";

/** Let's Encrypt's production ACME directory: where certificates come from unless told otherwise. */
export const LETS_ENCRYPT_DIRECTORY_URL = "https://acme-v02.api.letsencrypt.org/directory";

/** HTTPS with a certificate from an ACME server (Let's Encrypt). */
export interface TlsSettings {
    /** The ACME account's contact address. */
    readonly email: string;
    /** The ACME directory, for example https://acme-v02.api.letsencrypt.org/directory. */
    readonly directoryUrl: string;
    /** Also certify and serve the apex over HTTPS; its DNS record must point at the server. Defaults to false. */
    readonly includeApex?: boolean;
}

/**
 * What the plan needs to know about the server it configures. The domain and the app's environment
 * are not among them: the executor gives them when it applies the plan ({@link PlanInputs}).
 */
export interface ServerSettings {
    /** How many app instances run behind nginx, 1 to 8; 2 or more deploy without a gap. Defaults to 2. */
    readonly appInstances?: number;
    /**
     * How many seconds nginx keeps the API's anonymous answers (the posts list, a post, the release),
     * 0 to 60; 0 keeps none. A client that has just written reads past the cache; other readers may
     * see a write that much later. Defaults to 1.
     */
    readonly apiCacheSeconds?: number;
    /** The release to deploy, built by release/build.ts (`buildRelease`, with the app it is given). */
    readonly release: Release;
    /** When set, the site is served over HTTPS with a certificate from this ACME server. Defaults to HTTP only. */
    readonly tls?: TlsSettings;
    /**
     * Manage the login user's authorized keys: exactly the keys the executor gives (PlanInputs'
     * authorizedKeys), so that a new key rotates in. Only on a server the stack owns (WebServer's).
     * Defaults to leaving them alone.
     */
    readonly sshAccess?: { readonly user: string };
    /**
     * Maintenance mode as the plan leaves it: webstack-maintenance, on the server, switches it between
     * runs. Defaults to off, with no address allowed past it.
     */
    readonly maintenance?: MaintenanceSettings;
    /**
     * When the server may reboot each week, a day and a time in UTC (`Sun 03:00`): it does only
     * when an update asked for a reboot, after a fresh backup. Defaults to never rebooting by itself.
     */
    readonly maintenanceWindow?: string;
}

/** The settings' maintenance window, or none; throws with the example when it is not a day and a time. */
function maintenanceWindowOf(settings: ServerSettings): MaintenanceWindow | undefined {
    if (settings.maintenanceWindow === undefined) {
        return undefined;
    }
    const window = parseMaintenanceWindow(settings.maintenanceWindow);
    if ("problem" in window) {
        throw new Error(`maintenanceWindow ${window.problem}.`);
    }
    return window;
}

/** Throws an error that names the field and the rule unless the settings can configure a server. */
export function checkedServerSettings(settings: ServerSettings): ServerSettings {
    checkedWholeNumber("appInstances", settings.appInstances ?? DEFAULT_APP_INSTANCES, APP_INSTANCE_BOUNDS);
    checkedWholeNumber("apiCacheSeconds", settings.apiCacheSeconds ?? DEFAULT_API_CACHE_SECONDS, API_CACHE_SECONDS_BOUNDS);
    const maintenanceProblem = maintenanceProblems(settings.maintenance ?? {});
    if (maintenanceProblem.length > 0) {
        throw new Error(maintenanceProblem.join(" "));
    }
    maintenanceWindowOf(settings);
    const releaseIdIssue = releaseIdProblem(settings.release.id);
    if (releaseIdIssue !== undefined) {
        throw new Error(`release.id ${releaseIdIssue}.`);
    }
    if (settings.release.artifactPath.trim() === "") {
        throw new Error("release.artifactPath is empty; it must be the path of the release tarball that release/build.ts writes.");
    }
    const healthPathIssue = healthPathProblem(settings.release.healthPath);
    if (healthPathIssue !== undefined) {
        throw new Error(`release.healthPath "${settings.release.healthPath}" ${healthPathIssue}.`);
    }
    if (settings.tls && !isEmailAddress(settings.tls.email)) {
        throw new Error(`tls.email "${settings.tls.email}" is not an email address; the ACME server sends expiry notices there.`);
    }
    if (settings.tls && !isHttpsUrl(settings.tls.directoryUrl)) {
        throw new Error(
            `tls.directoryUrl "${settings.tls.directoryUrl}" is not an https URL; use the ACME directory, for example https://acme-v02.api.letsencrypt.org/directory.`,
        );
    }
    return settings;
}

/**
 * The server's whole configuration, in the order it is applied. nginx comes before the release so
 * that the first deploy already rolls out behind the upstream; with TLS, the site first serves
 * HTTP (and the ACME challenge), certbot obtains the certificate, then the HTTPS site replaces it.
 */
export function buildPlan(settings: ServerSettings): Plan {
    const { release, tls } = checkedServerSettings(settings);
    const appInstances = settings.appInstances ?? DEFAULT_APP_INSTANCES;
    const apiCacheSeconds = settings.apiCacheSeconds ?? DEFAULT_API_CACHE_SECONDS;
    const site = {
        appInstances,
        apiCacheSeconds,
        tls: tls !== undefined,
        includeApex: tls?.includeApex ?? false,
        maintenanceAllowedCidrs: settings.maintenance?.allowedCidrs,
    };
    return checkedPlan([
        bootstrapStep({ waitForCloudInit: true }),
        packagesStep(),
        baseStep(),
        hardeningStep(),
        databaseStep(),
        replicationStep(),
        // Before the app takes traffic: a new server restores the stack's data from the bucket.
        backupBucketStep(),
        backupsStep(),
        rebootsStep(maintenanceWindowOf(settings)),
        appStep(appInstances),
        appEnvironmentStep(),
        nginxSiteStep(site),
        maintenanceStep(settings.maintenance ?? {}),
        ...releaseSteps(release),
        ...(tls
            ? [certbotStep({ email: tls.email, directoryUrl: tls.directoryUrl, includeApex: tls.includeApex ?? false }), nginxTlsStep(site)]
            : []),
        ...(settings.sshAccess ? [sshAccessStep(settings.sshAccess.user)] : []),
    ]);
}

/** What the plan of a fleet's server (the ha topology) needs: the app and its release; HTTPS and maintenance are the load balancer's, and new images bring its updates. */
export type FleetServerSettings = Omit<ServerSettings, "tls" | "sshAccess" | "maintenance" | "maintenanceWindow">;

/**
 * The configuration of every server of a fleet, which applies it to itself at first boot
 * (components/fleet/firstBoot.ts): a single server's, without the database (RDS), its backups (RDS's) or
 * a certificate (the load balancer's), and with the fleet step, which brings the database's
 * credentials before the app's first start and the deploy's migrations.
 */
export function buildFleetPlan(settings: FleetServerSettings): Plan<"fleet"> {
    const { release } = checkedServerSettings(settings);
    const appInstances = settings.appInstances ?? DEFAULT_APP_INSTANCES;
    const apiCacheSeconds = settings.apiCacheSeconds ?? DEFAULT_API_CACHE_SECONDS;
    return checkedPlan<"fleet">([
        bootstrapStep({ waitForCloudInit: false }),
        packagesStep(FLEET_PACKAGES),
        baseStep(FLEET_FIREWALL_PORTS),
        hardeningStep(),
        fleetStep(),
        appStep(appInstances),
        appEnvironmentStep(),
        nginxSiteStep({ appInstances, apiCacheSeconds, tls: false, includeApex: false, behindLoadBalancer: true }),
        ...releaseSteps(release),
    ]);
}
