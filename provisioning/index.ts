import { isEmailAddress, isHttpsUrl } from "./formats";
import { apexDomainProblem } from "./site";
import { MAX_APP_INSTANCES } from "./layout";
import { Plan, validatePlan } from "./plan";
import { appStep } from "./steps/app";
import { backupsStep } from "./steps/backups";
import { baseStep } from "./steps/base";
import { bootstrapStep } from "./steps/bootstrap";
import { certbotStep } from "./steps/certbot";
import { databaseStep } from "./steps/database";
import { hardeningStep } from "./steps/hardening";
import { NGINX_TLS_STEP, nginxSiteStep, nginxTlsStep } from "./steps/nginx";
import { Release, releaseSteps } from "./steps/release";

export * from "./plan";
export type { Release } from "./steps/release";

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

/** What the plan needs to know about the server it configures. */
export interface ServerSettings {
    /** The apex domain, for example example.com; the site is www.<domain>, and the apex redirects to it. */
    readonly domain: string;
    /** How many app instances run behind nginx, 1 to 8 (callers apply the default, 2); 2 or more deploy without a gap. */
    readonly appInstances: number;
    /** The release to deploy, built by app/build.ts. */
    readonly release: Release;
    /** When set, the site is served over HTTPS with a certificate from this ACME server. Defaults to HTTP only. */
    readonly tls?: TlsSettings;
}

const RELEASE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;


/** Throws an error that names the field and the rule unless the settings can configure a server. */
export function validateServerSettings(settings: ServerSettings): ServerSettings {
    const domainProblem = apexDomainProblem(settings.domain);
    if (domainProblem !== undefined) {
        throw new Error(`domain "${settings.domain}" ${domainProblem}.`);
    }
    if (!Number.isInteger(settings.appInstances) || settings.appInstances < 1 || settings.appInstances > MAX_APP_INSTANCES) {
        throw new Error(`appInstances is ${settings.appInstances}; expected a whole number from 1 to ${MAX_APP_INSTANCES}, for example 2.`);
    }
    if (!RELEASE_ID.test(settings.release.id)) {
        throw new Error(
            `release.id "${settings.release.id}" must be 1 to 64 letters, digits, dots, dashes or underscores, starting with a letter or digit (it names a directory and a file on the server).`,
        );
    }
    if (settings.release.artifactPath.trim() === "") {
        throw new Error("release.artifactPath is empty; it must be the path of the release tarball that app/build.ts writes.");
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

/** Whether a plan serves the site over HTTPS: the one place that says so, for the URL and the health check. */
export function servesHttps(plan: Plan): boolean {
    return plan.some((step) => step.name === NGINX_TLS_STEP);
}

/**
 * The server's whole configuration, in the order it is applied. nginx comes before the release so
 * that the first deploy already rolls out behind the upstream; with TLS, the site first serves
 * HTTP (and the ACME challenge), certbot obtains the certificate, then the HTTPS site replaces it.
 */
export function buildPlan(settings: ServerSettings): Plan {
    const { domain, appInstances, release, tls } = validateServerSettings(settings);
    const site = { domain, appInstances, tls: tls !== undefined, includeApex: tls?.includeApex ?? false };
    return validatePlan([
        bootstrapStep(),
        baseStep(),
        hardeningStep(),
        databaseStep(),
        appStep(appInstances),
        nginxSiteStep(site),
        ...releaseSteps(release),
        backupsStep(),
        ...(tls ? [certbotStep({ domain, email: tls.email, directoryUrl: tls.directoryUrl, includeApex: tls.includeApex ?? false }), nginxTlsStep(site)] : []),
    ]);
}
