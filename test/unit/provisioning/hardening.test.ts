import { expect } from "chai";
import {
    DISABLED_KERNEL_MODULES,
    KERNEL_SETTINGS,
    renderDisabledModules,
    renderKernelSettings,
    renderSshdHardening,
} from "../../../provisioning/files/hardening";
import { SSHD_HARDENING_FILE } from "../../../provisioning/layout";

describe("renderSshdHardening", () => {
    const config = renderSshdHardening();

    it("takes keys only, never root, and forwards nothing", () => {
        for (const line of [
            "PermitRootLogin no",
            "PasswordAuthentication no",
            "KbdInteractiveAuthentication no",
            "AllowTcpForwarding no",
            "AllowAgentForwarding no",
            "X11Forwarding no",
        ]) {
            expect(config.split("\n")).to.include(line);
        }
    });

    it("is read before cloud-init's drop-in, since sshd keeps the first value it reads", () => {
        const name = SSHD_HARDENING_FILE.split("/").pop() ?? "";
        expect(SSHD_HARDENING_FILE.startsWith("/etc/ssh/sshd_config.d/")).to.equal(true);
        expect(name < "50-cloud-init.conf").to.equal(true);
    });
});

describe("renderDisabledModules and renderKernelSettings", () => {
    it("refuses every unneeded module by making its install a failure", () => {
        expect(
            renderDisabledModules()
                .split("\n")
                .filter((line) => line.startsWith("install ")),
        ).to.deep.equal(DISABLED_KERNEL_MODULES.map((module) => `install ${module} /bin/false`));
    });

    it("writes one sysctl line per setting, ICMP redirects off and reverse-path filtering on among them", () => {
        const lines = renderKernelSettings()
            .split("\n")
            .filter((line) => line !== "" && !line.startsWith("#"));
        expect(lines).to.have.length(Object.keys(KERNEL_SETTINGS).length);
        expect(lines).to.include.members([
            "net.ipv4.conf.all.send_redirects = 0",
            "net.ipv4.conf.all.rp_filter = 1",
            "fs.protected_symlinks = 1",
        ]);
    });
});
