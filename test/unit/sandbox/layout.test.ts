import { expect } from "chai";
import { guestHostName, sandboxPaths, checkedSandboxName } from "../../../sandbox/host/layout";

describe("checkedSandboxName", () => {
    it("accepts short lowercase names", () => {
        expect(checkedSandboxName("default")).to.equal("default");
        expect(checkedSandboxName("e2e-2")).to.equal("e2e-2");
    });

    it("refuses names that could not name a netns, a cgroup or a path safely", () => {
        for (const bad of ["", "Default", "1st", "a/b", "../etc", "with space", "a".repeat(21)]) {
            expect(() => checkedSandboxName(bad), bad).to.throw(/lowercase letters, digits or dashes/);
        }
    });
});

describe("sandboxPaths", () => {
    const paths = sandboxPaths("default");

    it("keeps runtime state under /run and the server's disk under /var/lib", () => {
        expect(paths.stateFile).to.equal("/run/webstack-sandbox/default/state.json");
        expect(paths.clientKey).to.equal("/run/webstack-sandbox/default/id_ed25519");
        expect(paths.upperDir).to.equal("/var/lib/webstack-sandbox/default/upper");
        expect(paths.rootDir).to.equal("/var/lib/webstack-sandbox/default/root");
    });

    it("gives the server a cgroup of its own in every hierarchy, the memory controller's among them", () => {
        expect(paths.cgroups).to.deep.equal([
            "/sys/fs/cgroup/unified/webstack-sandbox-default",
            "/sys/fs/cgroup/systemd/webstack-sandbox-default",
            "/sys/fs/cgroup/memory/webstack-sandbox-default",
        ]);
        expect(paths.cgroups).to.include(paths.memoryCgroup);
    });

    it("validates the name first", () => {
        expect(() => sandboxPaths("../x")).to.throw(/Sandbox name/);
    });
});

describe("guestHostName", () => {
    it("tells sandboxes apart in a shell prompt", () => {
        expect(guestHostName("e2e")).to.equal("sandbox-e2e");
    });
});
