import { renderNginxConf, renderSite, renderUpstream } from "../files/nginx";
import {
    ACME_WEBROOT,
    appPorts,
    NGINX_API_CACHE_DIR,
    certificatePaths,
    NGINX_CONF_FILE,
    NGINX_DEFAULT_SITE,
    NGINX_SITE_FILE,
    NGINX_UPSTREAM_FILE,
} from "../layout";
import { RunStep } from "../plan";
import { runStepFrom, scriptBody, type ScriptSpec } from "../script";
import { checkedDomain, siteUrl } from "../site";

/** The site apart from its domain, which the plan's inputs give when it is applied. */
export interface NginxSiteSettings {
    readonly appInstances: number;
    /** Render the HTTPS form too; the step uses it once the certificate exists. */
    readonly tls: boolean;
    /** The certificate covers the apex too. */
    readonly includeApex: boolean;
    /** A load balancer in front terminates HTTPS (the ha topology). */
    readonly behindLoadBalancer?: boolean;
    /** How many seconds nginx keeps the API's anonymous answers; 0 keeps none. */
    readonly apiCacheSeconds: number;
    /** The blocks whose requests get the site during maintenance. Defaults to none. */
    readonly maintenanceAllowedCidrs?: readonly string[];
}

function nginxStep(name: string, options: NginxSiteSettings, requireCertificate: boolean): RunStep {
    return runStepFrom(name, "domain", (domain) => nginxScript(checkedDomain(domain), options, requireCertificate));
}

function nginxScript(domain: string, options: NginxSiteSettings, requireCertificate: boolean): ScriptSpec {
    return {
        description: `Serve ${siteUrl(domain, requireCertificate || options.behindLoadBalancer === true)}${options.behindLoadBalancer ? " behind the load balancer" : ""}.`,
        settings: {
            NGINX_CONF_FILE,
            NGINX_CONF: renderNginxConf(),
            NGINX_SITE_FILE,
            NGINX_DEFAULT_SITE,
            NGINX_UPSTREAM_FILE,
            NGINX_API_CACHE_DIR,
            UPSTREAM_CONF: renderUpstream(appPorts(options.appInstances)),
            ACME_WEBROOT,
            SITE_HTTP: renderSite({
                domain,
                tls: false,
                apiCacheSeconds: options.apiCacheSeconds,
                maintenanceAllowedCidrs: options.maintenanceAllowedCidrs,
                ...(options.behindLoadBalancer ? { behindLoadBalancer: true } : {}),
            }),
            SITE_TLS: options.tls
                ? renderSite({
                      domain,
                      tls: true,
                      includeApex: options.includeApex,
                      apiCacheSeconds: options.apiCacheSeconds,
                      maintenanceAllowedCidrs: options.maintenanceAllowedCidrs,
                  })
                : "",
            CERTIFICATE: options.tls ? certificatePaths(domain).fullchain : "",
            REQUIRE_CERTIFICATE: requireCertificate ? "yes" : "no",
        },
        body: scriptBody("nginx-site"),
    };
}

/**
 * The site as it can be served now: over HTTP, or over HTTPS when TLS is wanted and the certificate
 * exists already (a re-run), so that a re-run changes nothing.
 */
export function nginxSiteStep(options: NginxSiteSettings): RunStep {
    return nginxStep("nginx", options, false);
}

/** After certbot: the HTTPS site, which needs the certificate. */
export function nginxTlsStep(options: NginxSiteSettings): RunStep {
    return nginxStep("nginx-tls", { ...options, tls: true }, true);
}
