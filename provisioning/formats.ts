/**
 * The text formats that more than one layer checks (stack config, the components' arguments, the
 * plan's settings, the sandbox's DNS), spelled once so that they cannot disagree.
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

/** True for a dotted IPv4 address with every octet in 0..255. */
export function isIpv4Address(text: string): boolean {
    const octets = text.split(".");
    return octets.length === 4 && octets.every((octet) => /^\d{1,3}$/.test(octet) && Number(octet) <= 255);
}

/** True for an IPv6 address in any of its textual forms (with at most one `::`). */
export function isIpv6Address(text: string): boolean {
    if (!/^[0-9a-fA-F:]+$/.test(text) || text.split("::").length > 2) {
        return false;
    }
    const groups = text.split(":").filter((group) => group !== "");
    const compressed = text.includes("::");
    return groups.every((group) => group.length <= 4) && (compressed ? groups.length < 8 : groups.length === 8);
}

/** Whether a CIDR block is IPv4 or IPv6, or undefined when it is not a valid CIDR block. */
export function cidrFamily(cidr: string): "ipv4" | "ipv6" | undefined {
    const [address, prefix, extra] = cidr.split("/");
    if (extra !== undefined || prefix === undefined || !/^\d{1,3}$/.test(prefix)) {
        return undefined;
    }
    if (isIpv4Address(address) && Number(prefix) <= 32) {
        return "ipv4";
    }
    if (isIpv6Address(address) && Number(prefix) <= 128) {
        return "ipv6";
    }
    return undefined;
}

/** Why a URL path cannot be requested as it is written, or undefined when it can. */
export function healthPathProblem(path: string): string | undefined {
    return /^\/[A-Za-z0-9._~/-]*$/.test(path)
        ? undefined
        : "must be a path starting with / made of letters, digits and . _ ~ / - (for example /healthz)";
}

/** An OpenSSH public key without its comment ("ssh-ed25519 AAAA..."): what the key is, whatever it is called. */
export function publicKeyMaterial(publicKey: string): string {
    return publicKey.trim().split(/\s+/).slice(0, 2).join(" ");
}

const KEY_BODY = "[A-Za-z0-9+/]+={0,3}";

/** An OpenSSH public key's form, without a comment: a type sshd takes and its base64 body. */
export const PUBLIC_KEY_MATERIAL = new RegExp(`^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp(256|384|521)) ${KEY_BODY}$`);

/** The keys EC2's ImportKeyPair takes, ED25519 and RSA; it refuses ECDSA ones. */
const KEY_PAIR_MATERIAL = new RegExp(`^(ssh-ed25519|ssh-rsa) ${KEY_BODY}$`);

/**
 * The part of an OpenSSH public key (comment or not) that EC2 imports as a key pair; throws, naming
 * the key's type and the two EC2 takes, for any other key.
 */
export function keyPairMaterial(publicKey: string): string {
    const material = publicKeyMaterial(publicKey);
    if (!KEY_PAIR_MATERIAL.test(material)) {
        throw new Error(
            `sshPublicKey is ${JSON.stringify(material.split(" ")[0])}...; EC2 imports ssh-ed25519 and ssh-rsa keys only, for example "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA... you@laptop" (ssh-keygen -t ed25519).`,
        );
    }
    return material;
}

/** True when EC2 can import the OpenSSH public key (comment or not) as a key pair. */
export function isKeyPairPublicKey(publicKey: string): boolean {
    return KEY_PAIR_MATERIAL.test(publicKeyMaterial(publicKey));
}
