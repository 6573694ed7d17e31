import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sshAccessStep } from "../../provisioning/steps/sshAccess";
import { runCommand } from "../../sandbox/host/exec";
import { applyPlan } from "../../sandbox/executors/runner";
import { sshRun, type SshTarget } from "../../sandbox/host/ssh";
import { sshKeyPair } from "../support/sshKeys";
import { startSandbox, type TestSandbox } from "../support/sandbox";

describe("rotating the login user's SSH key on a sandbox server (end to end)", function () {
    this.timeout(600_000);

    let server: TestSandbox;
    let keys: string;
    const rotatedTo = sshKeyPair("rotated-to");
    const plan = [sshAccessStep("admin")];
    const quiet = { log: () => undefined };

    before(async () => {
        server = await startSandbox("e2e-keys", { image: "bare" });
        keys = mkdtempSync(join(tmpdir(), "webstack-rotation-"));
        writeFileSync(join(keys, "rotated-to"), rotatedTo.privateKey, { mode: 0o600 });
    });

    after(async () => {
        await server?.destroy();
        rmSync(keys, { recursive: true, force: true });
    });

    const withNewKey = (): SshTarget => ({ ...server.ssh, identityFile: join(keys, "rotated-to") });
    const logsIn = (target: SshTarget) =>
        sshRun(target, "id -un").then(
            () => true,
            () => false,
        );

    it("authorizes the new key beside the one the steps connect with, so that both log in", async () => {
        const [result] = await applyPlan(
            plan,
            server.ssh,
            { domain: server.domain, authorizedKeys: [rotatedTo.publicKey, await publicKeyOf(server.ssh.identityFile)] },
            quiet,
        );
        expect(result.changed).to.equal(1);
        expect(await logsIn(withNewKey())).to.equal(true);
        expect(await logsIn(server.ssh)).to.equal(true);
    });

    it("then, connecting with the new key, keeps it alone: the old key is refused, and a second run changes nothing", async () => {
        const inputs = { domain: server.domain, authorizedKeys: [rotatedTo.publicKey] };
        const [first] = await applyPlan(plan, withNewKey(), inputs, quiet);
        expect(first.changed).to.equal(1);
        expect(await logsIn(server.ssh), "the old key still logs in").to.equal(false);
        const [second] = await applyPlan(plan, withNewKey(), inputs, quiet);
        expect(second.changed).to.equal(0);
        expect(await sshRun(withNewKey(), "stat -c '%a %U' ~/.ssh ~/.ssh/authorized_keys").then((result) => result.stdout)).to.equal(
            "700 admin\n600 admin\n",
        );
    });
});

/** The public key line of a private key file, as ssh-keygen reads it. */
async function publicKeyOf(identityFile: string): Promise<string> {
    return (await runCommand("ssh-keygen", ["-y", "-f", identityFile])).stdout.trim();
}
