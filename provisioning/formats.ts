/**
 * The text formats that more than one layer checks (stack config, the plan's settings, the
 * sandbox's DNS), spelled once so that they cannot disagree.
 */

const DOMAIN_NAME = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/;
const EMAIL_ADDRESS = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

/** A lowercase DNS name of at least two labels, for example example.com or webstack.test. */
export function isDomainName(text: string): boolean {
    return DOMAIN_NAME.test(text);
}

/** An email address as far as an ACME server cares: something@domain.tld. */
export function isEmailAddress(text: string): boolean {
    return EMAIL_ADDRESS.test(text);
}

export function isHttpsUrl(text: string): boolean {
    try {
        return new URL(text).protocol === "https:";
    } catch {
        return false;
    }
}
