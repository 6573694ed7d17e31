import { expect } from "chai";
import { interactiveSshCommand, sshArguments, type SshTarget } from "../../../sandbox/host/ssh";

const target: SshTarget = {
    host: "198.18.1.2",
    user: "admin",
    identityFile: "/run/webstack-sandbox/default/id_ed25519",
    knownHostsFile: "/run/webstack-sandbox/default/known_hosts",
};

describe("sshArguments", () => {
    const args = sshArguments(target, "sudo bash -s");
    const options = args.filter((_, index) => args[index - 1] === "-o");

    it("never prompts and trusts only the pinned host keys", () => {
        expect(options).to.include.members([
            "BatchMode=yes",
            "StrictHostKeyChecking=yes",
            "UserKnownHostsFile=/run/webstack-sandbox/default/known_hosts",
            "GlobalKnownHostsFile=/dev/null",
        ]);
    });

    it("offers the sandbox's key alone and ignores the user's ssh config", () => {
        expect(options).to.include.members(["IdentitiesOnly=yes", "IdentityFile=/run/webstack-sandbox/default/id_ed25519"]);
        expect(args.slice(0, 2)).to.deep.equal(["-F", "none"]);
    });

    it("ends with the login and the remote command after --", () => {
        expect(args.slice(-3)).to.deep.equal(["admin@198.18.1.2", "--", "sudo bash -s"]);
    });
});

describe("interactiveSshCommand", () => {
    it("is a command a person can paste", () => {
        expect(interactiveSshCommand(target)).to.equal(
            "ssh -i /run/webstack-sandbox/default/id_ed25519 -o UserKnownHostsFile=/run/webstack-sandbox/default/known_hosts admin@198.18.1.2",
        );
    });
});
