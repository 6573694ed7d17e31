import { PUBLIC_KEY_MATERIAL, publicKeyMaterial } from "../formats";
import { RunStep } from "../plan";
import { runStepFrom, scriptBody } from "../script";

/** What an authorized_keys file holds for the given public keys: one per line, each without its comment, in the order given, none twice. */
export function renderAuthorizedKeys(publicKeys: readonly string[]): string {
    const keys = [...new Set(publicKeys.map(publicKeyMaterial))];
    const problems = keys.filter((key) => !PUBLIC_KEY_MATERIAL.test(key));
    if (keys.length === 0 || problems.length > 0) {
        // Never quoted: a private key given by mistake must not reach a message.
        const got = keys.length === 0 ? "none" : `${problems.length} that ${problems.length === 1 ? "is" : "are"} not`;
        throw new Error(`authorizedKeys must be OpenSSH public keys ("ssh-ed25519 AAAA..."), at least one; got ${got}.`);
    }
    return ["# Managed by webstack: the configured key and the key the provisioning connects with.", ...keys, ""].join("\n");
}

/**
 * The login user's authorized keys, exactly the plan's `authorizedKeys` input: on a server the stack
 * owns, so that changing the key rotates it there. Last in the plan, so that a key the steps
 * connected with is taken away only after they ran.
 */
export function sshAccessStep(user: string): RunStep {
    return runStepFrom("ssh-access", "authorizedKeys", (keys) => ({
        description: `Authorize exactly the configured SSH keys for ${user}.`,
        settings: { SSH_USER: user, AUTHORIZED_KEYS: renderAuthorizedKeys(keys) },
        body: scriptBody("ssh-access"),
    }));
}
