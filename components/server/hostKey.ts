import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import type { ComponentContext } from "../context";

/** An SSH host key pair in OpenSSH's formats: the private key's text and the public key's line ("ssh-ed25519 AAAA..."). */
export interface HostKeyPair {
    readonly privateKeyOpenssh: string;
    readonly publicKeyOpenssh: string;
}

/**
 * The instance's user data: cloud-init installs `key` as the server's only SSH host key before sshd
 * first starts (and makes no other), so that the stack's first connection can already pin it. Anyone
 * who can read the instance's user data can read the private key.
 */
export function renderHostKeyUserData(key: HostKeyPair): string {
    const privateKey = key.privateKeyOpenssh
        .trim()
        .split("\n")
        .map((line) => `    ${line}`);
    return [
        "#cloud-config",
        "ssh_deletekeys: true",
        "ssh_genkeytypes: []",
        "ssh_keys:",
        "  ed25519_private: |",
        ...privateKey,
        `  ed25519_public: ${key.publicKeyOpenssh.trim()}`,
        "",
    ].join("\n");
}

/**
 * The server's SSH host key, made once by the stack and kept in its state as a secret: the instance
 * gets it at first boot through its user data, and every step pins its public half.
 */
export function declareHostKey(context: ComponentContext): { userData: pulumi.Output<string>; publicKey: pulumi.Output<string> } {
    const key = new tls.PrivateKey(`${context.name}-host-key`, { algorithm: "ED25519" }, { parent: context.parent });
    return {
        userData: pulumi.secret(
            pulumi
                .all([key.privateKeyOpenssh, key.publicKeyOpenssh])
                .apply(([privateKeyOpenssh, publicKeyOpenssh]) => renderHostKeyUserData({ privateKeyOpenssh, publicKeyOpenssh })),
        ),
        publicKey: key.publicKeyOpenssh.apply((line) => line.trim()),
    };
}
