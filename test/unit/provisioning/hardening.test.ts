import { expect } from "chai";
import { spawnSync } from "child_process";
import {
    renderMetadataFirewall,
    renderMetadataFirewallService,
    DISABLED_KERNEL_MODULES,
    KERNEL_SETTINGS,
    renderDisabledModules,
    renderKernelSettings,
    renderSshdHardening,
} from "../../../provisioning/files/hardening";
import { METADATA_FIREWALL_FILE, SSHD_HARDENING_FILE } from "../../../provisioning/layout";

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

describe("renderMetadataFirewall", () => {
    it("refuses every user but root a connection to the metadata service, over IPv4 and IPv6, at once", () => {
        const ruleset = renderMetadataFirewall();
        expect(ruleset).to.contain("ip daddr 169.254.169.254 meta skuid != 0 counter reject with tcp reset\n");
        expect(ruleset).to.contain("ip6 daddr fd00:ec2::254 meta skuid != 0 counter reject with tcp reset\n");
        expect(ruleset).to.contain("policy accept;");
    });

    it("is a table nft loads, replacing its own earlier version and nothing else", () => {
        const ruleset = renderMetadataFirewall();
        expect(ruleset).to.match(/^table inet webstack_metadata\ndelete table inet webstack_metadata\ntable inet webstack_metadata \{/m);
        expect(ruleset).not.to.contain("flush ruleset");
        const checked = spawnSync("nft", ["--check", "-f", "-"], { input: ruleset, encoding: "utf8" });
        expect(checked.error, "nft runs (apt-get install nftables)").to.equal(undefined);
        expect(checked.status, checked.stderr).to.equal(0);
    });
});

describe("renderMetadataFirewallService", () => {
    it("loads the table at boot before the network comes up", () => {
        const service = renderMetadataFirewallService();
        expect(service).to.contain(`ExecStart=/usr/sbin/nft -f ${METADATA_FIREWALL_FILE}\n`);
        expect(service).to.contain("Before=network-pre.target");
        expect(service).to.contain("RemainAfterExit=yes\n");
        expect(service).to.contain("WantedBy=sysinit.target\n");
    });
});
