import { expect } from "chai";
import type { HostKeyPair } from "../../components/server/hostKey";
import { runCommand } from "../../sandbox/host/exec";
import { sshRunAsRoot } from "../../sandbox/host/ssh";
import { destroySandbox, startSandbox } from "../../sandbox/sandbox";
import type { Sandbox } from "../../sandbox/host/state";
import { suiteLog } from "../support/sandbox";
import { sshKeyPair } from "../support/sshKeys";

const SANDBOX_NAME = "e2e-host-key";

describe("a server launched as WebServer launches one: cloud-init gives it the stack's host key (end to end)", function () {
    this.timeout(600_000);
    let server: Sandbox;
    let hostKey: HostKeyPair;

    before(async () => {
        const made = sshKeyPair("host");
        hostKey = { privateKeyOpenssh: made.privateKey, publicKeyOpenssh: `${made.publicKey}\n` };
        server = await startSandbox({ name: SANDBOX_NAME, hostKey, log: suiteLog });
    });

    after(async () => {
        await destroySandbox(SANDBOX_NAME, suiteLog);
    });

    it("presents that key, and no other, from its first boot", async () => {
        const scanned = await runCommand("ssh-keyscan", ["-T", "5", server.address]);
        const keys = scanned.stdout
            .split("\n")
            .filter((line) => line !== "" && !line.startsWith("#"))
            .map((line) => line.split(" ").slice(1, 3).join(" "));
        expect(keys).to.deep.equal([hostKey.publicKeyOpenssh.trim()]);
    });

    it("takes a connection that pins the key, as every step's does", async () => {
        expect(await sshRunAsRoot(server.ssh, "cat /etc/ssh/ssh_host_ed25519_key.pub")).to.contain(hostKey.publicKeyOpenssh.trim());
    });
});
