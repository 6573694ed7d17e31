import { renderCertbotDeployHook } from "../files/commands";
import { ACME_WEBROOT, CERTBOT_DEPLOY_HOOK, certificatePaths } from "../layout";
import { RunStep } from "../plan";
import { runStepFrom, scriptBody, type ScriptSpec } from "../script";
import { checkedDomain, siteNames } from "../site";

/** The certificate apart from its domain, which the plan's inputs give when it is applied. */
export interface CertbotSettings {
    /** The ACME account's contact address. */
    readonly email: string;
    /** The ACME directory, for example https://acme-v02.api.letsencrypt.org/directory. */
    readonly directoryUrl: string;
    /** Put the apex in the certificate too; the challenge then needs it to resolve to the server. */
    readonly includeApex: boolean;
}

/** A certificate for www.<domain> (and the apex); the challenge needs every name to resolve to the server. */
export function certbotStep(options: CertbotSettings): RunStep {
    return runStepFrom("certbot", "domain", (domain) => certbotScript(checkedDomain(domain), options), { needsDns: true });
}

function certbotScript(domain: string, options: CertbotSettings): ScriptSpec {
    const certificate = certificatePaths(domain);
    const names = siteNames(domain, options.includeApex);
    return {
        description: `Obtain a certificate for ${names.join(" and ")}.`,
        settings: {
            CERT_DOMAINS: names.join(" "),
            TLS_EMAIL: options.email,
            TLS_DIRECTORY_URL: options.directoryUrl,
            ACME_WEBROOT,
            CERT_NAME: certificate.name,
            CERTIFICATE: certificate.fullchain,
            CERTBOT_DEPLOY_HOOK,
            DEPLOY_HOOK_SCRIPT: renderCertbotDeployHook(),
        },
        body: scriptBody("certbot"),
    };
}
