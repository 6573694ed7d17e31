import { renderCertbotDeployHook } from "../files/commands";
import { ACME_WEBROOT, CERTBOT_DEPLOY_HOOK, certificatePaths } from "../layout";
import { RunStep } from "../plan";
import { runStep, scriptBody } from "../script";
import { siteNames } from "../site";

export interface CertbotOptions {
    readonly domain: string;
    /** The ACME account's contact address. */
    readonly email: string;
    /** The ACME directory, for example https://acme-v02.api.letsencrypt.org/directory. */
    readonly directoryUrl: string;
    /** Put the apex in the certificate too; the challenge then needs it to resolve to the server. */
    readonly includeApex: boolean;
}

/** A certificate for www.<domain> (and the apex); the challenge needs every name to resolve to the server. */
export function certbotStep(options: CertbotOptions): RunStep {
    const certificate = certificatePaths(options.domain);
    const names = siteNames(options.domain, options.includeApex);
    return runStep(
        "certbot",
        {
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
        },
        { needsDns: true },
    );
}
