import * as pulumi from "@pulumi/pulumi";
import { createPublicKey } from "node:crypto";
import { publicKeyMaterial } from "../provisioning/formats";

/**
 * The public half of the SSH private key the provisioning connects with: what the server must keep
 * authorized while the steps use it. Nothing here puts any of the private key into a message.
 */

/** One SSH wire-format string (a big-endian uint32 length, then that many bytes) at `offset`. */
function readString(buffer: Buffer, offset: number): { value: Buffer; next: number } {
    const length = buffer.readUInt32BE(offset);
    return { value: buffer.subarray(offset + 4, offset + 4 + length), next: offset + 4 + length };
}

function sshString(bytes: Buffer): Buffer {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    return Buffer.concat([length, bytes]);
}

/** An unsigned big number as SSH's mpint: big-endian, a leading zero byte when the high bit is set. */
function mpint(unsigned: Buffer): Buffer {
    const trimmed = unsigned.subarray(unsigned.findIndex((byte) => byte !== 0));
    return sshString(trimmed[0] >= 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed);
}

const OPENSSH_MAGIC = "openssh-key-v1\0";
const UNREADABLE =
    "webstack:sshPrivateKey is neither an OpenSSH private key (-----BEGIN OPENSSH PRIVATE KEY-----) nor an unencrypted PEM one; give the private key that matches webstack:sshPublicKey";

/** The OpenSSH public key ("ssh-ed25519 AAAA...") of a private key in OpenSSH form (encrypted or not) or unencrypted PEM. */
export function publicKeyOfPrivateKey(privateKey: string): string {
    const openssh = /^-----BEGIN OPENSSH PRIVATE KEY-----\s+([A-Za-z0-9+/=\s]+?)\s*-----END OPENSSH PRIVATE KEY-----$/.exec(
        privateKey.trim(),
    );
    if (openssh !== null) {
        const data = Buffer.from(openssh[1].replace(/\s+/g, ""), "base64");
        if (data.subarray(0, OPENSSH_MAGIC.length).toString("latin1") !== OPENSSH_MAGIC) {
            throw new Error(`${UNREADABLE}.`);
        }
        // The cipher, the key derivation and its options, the number of keys, then the first public key in clear.
        let offset = OPENSSH_MAGIC.length;
        for (let field = 0; field < 3; field += 1) {
            offset = readString(data, offset).next;
        }
        const blob = readString(data, offset + 4).value;
        return `${readString(blob, 0).value.toString("latin1")} ${blob.toString("base64")}`;
    }
    let jwk: { kty?: string; crv?: string; n?: string; e?: string; x?: string };
    try {
        jwk = createPublicKey(privateKey).export({ format: "jwk" });
    } catch {
        throw new Error(`${UNREADABLE}.`);
    }
    if (jwk.kty === "RSA" && jwk.n !== undefined && jwk.e !== undefined) {
        const blob = Buffer.concat([
            sshString(Buffer.from("ssh-rsa")),
            mpint(Buffer.from(jwk.e, "base64url")),
            mpint(Buffer.from(jwk.n, "base64url")),
        ]);
        return `ssh-rsa ${blob.toString("base64")}`;
    }
    if (jwk.kty === "OKP" && jwk.crv === "Ed25519" && jwk.x !== undefined) {
        const blob = Buffer.concat([sshString(Buffer.from("ssh-ed25519")), sshString(Buffer.from(jwk.x, "base64url"))]);
        return `ssh-ed25519 ${blob.toString("base64")}`;
    }
    throw new Error(`webstack:sshPrivateKey is a ${jwk.kty ?? "unknown"} key; EC2 and webstack take ED25519 and RSA keys.`);
}

/**
 * The keys the server keeps authorized: the configured public key, and the public half of the private
 * key the steps connect with, when they connect with one (through an ssh-agent, they use the
 * configured key). Public, so not kept secret. A private key that cannot be read (a pull request's
 * placeholder) adds nothing: with it no step connects anyway.
 */
export function authorizedKeys(
    sshPublicKey: pulumi.Input<string>,
    sshPrivateKey: pulumi.Input<string> | undefined,
): pulumi.Output<string[]> {
    const connecting = pulumi.output(sshPrivateKey ?? "").apply((privateKey) => {
        try {
            return [publicKeyOfPrivateKey(privateKey)];
        } catch {
            return [];
        }
    });
    return pulumi.unsecret(
        pulumi.all([sshPublicKey, connecting]).apply(([publicKey, keys]) => [...new Set([publicKeyMaterial(publicKey), ...keys])]),
    );
}
