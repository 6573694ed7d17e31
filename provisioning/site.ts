import { isDomainName } from "./formats";

/**
 * The site's names, spelled once: a site is served as www.<domain>, and its apex <domain>
 * redirects there. DNS records, certificates, nginx, the outputs and the sandbox all ask here.
 */

/** The name the site answers on. */
export function wwwHostName(domain: string): string {
    return `www.${domain}`;
}

/** The names a site answers on: www.<domain>, and the apex when its record points here too. */
export function siteNames(domain: string, includeApex: boolean): string[] {
    return includeApex ? [wwwHostName(domain), domain] : [wwwHostName(domain)];
}

/** The site's address as a visitor types it. */
export function siteUrl(domain: string, https: boolean): string {
    return `${https ? "https" : "http"}://${wwwHostName(domain)}`;
}

/** Why `domain` cannot be a site's apex domain (for the caller to prefix with where it came from), or undefined when it can. */
export function apexDomainProblem(domain: string): string | undefined {
    if (!isDomainName(domain)) {
        return "is not a lowercase domain name; give the apex domain, for example example.com";
    }
    if (domain.startsWith("www.")) {
        return `starts with "www."; give the apex domain (${domain.slice(4)}): the site is served as www.<domain>`;
    }
    return undefined;
}

/** The domain when it can be a site's apex domain; otherwise an error that names it and the fix. */
export function checkedDomain(domain: string): string {
    const problem = apexDomainProblem(domain);
    if (problem !== undefined) {
        throw new Error(`domain "${domain}" ${problem}.`);
    }
    return domain;
}
