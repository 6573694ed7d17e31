import { renderCertbotDeployHook } from "../files/commands";
import { ACME_WEBROOT, CERTBOT_DEPLOY_HOOK, certificatePaths } from "../layout";
import { RunStep } from "../plan";
import { runStep, scriptBody } from "../script";

export interface CertbotOptions {
    readonly domain: string;
    /** The ACME account's contact address. */
    readonly email: string;
    /** The ACME directory, for example https://acme-v02.api.letsencrypt.org/directory. */
    readonly directoryUrl: string;
}

/** A certificate for www.<domain> and <domain>; the challenge needs both names to resolve to the server. */
export function certbotStep(options: CertbotOptions): RunStep {
    const certificate = certificatePaths(options.domain);
    return runStep(
        "certbot",
        {
            description: `Obtain a certificate for www.${options.domain} and ${options.domain}.`,
            settings: {
                DOMAIN: options.domain,
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
