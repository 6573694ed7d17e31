import { expect } from "chai";
import { publicKeyOfPrivateKey } from "../../../components/sshKeys";
import { sshKeyPair } from "../../support/sshKeys";

describe("publicKeyOfPrivateKey", () => {
    for (const [name, options] of [
        ["ed25519", []],
        ["rsa", ["-t", "rsa", "-b", "2048"]],
        ["rsa-pem", ["-t", "rsa", "-b", "2048", "-m", "PEM"]],
        ["passphrase-protected", ["-N", "a passphrase"]],
    ] as const) {
        it(`gives what ssh-keygen gives for a ${name} key`, () => {
            const { privateKey, publicKey } = sshKeyPair(name, ...options);
            expect(publicKeyOfPrivateKey(privateKey)).to.equal(publicKey);
        });
    }

    it("refuses what is not a private key, and a kind EC2 does not import, quoting none of it", () => {
        expect(() => publicKeyOfPrivateKey("preview-only: no SSH key"))
            .to.throw(/neither an OpenSSH private key .* nor an unencrypted PEM one/)
            .with.property("message")
            .that.does.not.contain("preview-only");
        expect(() => publicKeyOfPrivateKey(sshKeyPair("ecdsa", "-t", "ecdsa", "-m", "PEM").privateKey)).to.throw(
            /is a EC key; EC2 and webstack take ED25519 and RSA keys/,
        );
    });
});
