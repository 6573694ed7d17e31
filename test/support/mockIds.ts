import { createHash } from "node:crypto";

/**
 * Ids, ARNs and generated names in the shapes AWS and Pulumi make them, for the mocks: their random
 * parts are drawn from a hash of what they name, so that every run, and every fixture, gets the same.
 */

export const MOCK_ACCOUNT = "123456789012";
export const MOCK_REGION = "eu-central-1";

/** `length` lowercase hexadecimal characters drawn from `seed`. */
export function mockHex(seed: string, length: number): string {
    let hex = "";
    for (let round = 0; hex.length < length; round += 1) {
        hex += createHash("sha256").update(`${round}:${seed}`).digest("hex");
    }
    return hex.slice(0, length);
}

/** `length` characters of `alphabet` drawn from `seed`. */
function mockChars(seed: string, length: number, alphabet: string): string {
    return [...Buffer.from(mockHex(seed, length * 2), "hex")].map((byte) => alphabet[byte % alphabet.length]).join("");
}

/** `length` decimal digits drawn from `seed` (a load balancer's DNS name, a unique id). */
export function mockDigits(seed: string, length: number): string {
    return mockChars(`digits:${seed}`, length, "0123456789");
}

const UPPER_ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
const ALPHANUMERIC = `${UPPER_ALPHANUMERIC}abcdefghijklmnopqrstuvwxyz`;

/** An EC2 (or DLM) id: the prefix, a dash and 17 hexadecimal characters, the first a 0 as in every long id EC2 gives now. */
export function mockEc2Id(prefix: string, seed: string): string {
    return `${prefix}-0${mockHex(`${prefix}:${seed}`, 16)}`;
}

/** A version 4 UUID (Route53 health checks, ACM certificates, managed secrets' names). */
export function mockUuid(seed: string): string {
    const hex = mockHex(`uuid:${seed}`, 32);
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** A hosted zone's id: Z and 20 upper-case letters and digits. */
export function mockZoneId(seed: string): string {
    return `Z${mockChars(`zone:${seed}`, 20, UPPER_ALPHANUMERIC)}`;
}

/** An RDS instance's resource id (DbiResourceId): db- and 26 upper-case letters and digits. */
export function mockDbiResourceId(seed: string): string {
    return `db-${mockChars(`dbi:${seed}`, 26, UPPER_ALPHANUMERIC)}`;
}

/** The six random letters and digits Secrets Manager ends every secret's ARN with. */
export function mockSecretSuffix(seed: string): string {
    return mockChars(`secret:${seed}`, 6, ALPHANUMERIC);
}

/**
 * The name Pulumi's autonaming gives the resource `name` of `type`: the name, a dash and seven
 * hexadecimal characters; lower case for an S3 bucket (pulumi-aws lower-cases bucket names).
 */
export function mockGeneratedName(type: string, name: string): string {
    const generated = `${name}-${mockHex(`name:${type}:${name}`, 7)}`;
    return type === "aws:s3/bucket:Bucket" ? generated.toLowerCase() : generated;
}

/** An ARN of this account, in the mocks' region unless `region` is "" (IAM, S3). */
export function mockArn(service: string, resource: string, region: string = MOCK_REGION): string {
    return `arn:aws:${service}:${region}:${service === "s3" ? "" : MOCK_ACCOUNT}:${resource}`;
}
