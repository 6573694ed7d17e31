import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
    dnsmasqConfig,
    guestResolvConf,
    resolvConfNameservers,
    checkedSandboxDomain,
    type DnsSettings,
} from "../../../sandbox/network/dns";
import { runCommand } from "../../../sandbox/host/exec";

const settings: DnsSettings = {
    domain: "webstack.test",
    listenAddress: "198.18.1.1",
    serverAddress: "198.18.1.2",
    upstreamResolvers: ["10.255.255.53"],
    pidFile: "/run/webstack-sandbox/default/dnsmasq.pid",
    logFile: "/run/webstack-sandbox/default/dnsmasq.log",
};

describe("dnsmasqConfig", () => {
    const config = dnsmasqConfig(settings).split("\n");

    it("listens on the host end of the veth pair only", () => {
        expect(config).to.include.members(["listen-address=198.18.1.1", "bind-interfaces"]);
    });

    it("answers the apex and www names with the server's address and nothing else in the domain", () => {
        expect(config).to.include.members(["host-record=webstack.test,www.webstack.test,198.18.1.2", "local=/webstack.test/"]);
    });

    it("does not recurse: no resolv.conf, no /etc/hosts, and only Debian's mirror is forwarded", () => {
        expect(config).to.include.members(["no-resolv", "no-hosts", "server=/deb.debian.org/10.255.255.53"]);
        expect(config.filter((line) => line.startsWith("server="))).to.have.length(1);
    });

    it("is a configuration that dnsmasq accepts", async () => {
        const directory = mkdtempSync(join(tmpdir(), "dnsmasq-"));
        try {
            const file = join(directory, "dnsmasq.conf");
            writeFileSync(file, dnsmasqConfig(settings));
            const result = await runCommand("dnsmasq", ["--test", `--conf-file=${file}`]);
            expect(result.stderr).to.contain("syntax check OK");
        } finally {
            rmSync(directory, { recursive: true, force: true });
        }
    });

    it("refuses a domain that could break the configuration", () => {
        expect(() => dnsmasqConfig({ ...settings, domain: "webstack.test\nserver=8.8.8.8" })).to.throw(/is not a lowercase domain name/);
    });
});

describe("checkedSandboxDomain", () => {
    it("accepts an apex domain and refuses www names, upper case and bare labels", () => {
        expect(checkedSandboxDomain("example.com")).to.equal("example.com");
        for (const bad of ["www.example.com", "Example.com", "localhost", "exa mple.com", ""]) {
            expect(() => checkedSandboxDomain(bad), bad).to.throw(/webstack\.test/);
        }
    });
});

describe("resolvConfNameservers", () => {
    it("returns the IPv4 nameservers and skips comments, IPv6 and options", () => {
        const text = "# generated\nnameserver 10.255.255.53\nnameserver fd00::53\noptions edns0\nnameserver 192.0.2.53\n";
        expect(resolvConfNameservers(text)).to.deep.equal(["10.255.255.53", "192.0.2.53"]);
    });
});

describe("guestResolvConf", () => {
    it("points the guest at the sandbox's DNS server", () => {
        expect(guestResolvConf("198.18.1.1")).to.equal("nameserver 198.18.1.1\n");
    });
});
