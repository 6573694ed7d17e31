import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCommand } from "../../../sandbox/host/exec";
import { knownHostsLines, nspawnArguments, passwdIds, serverFiles, supervisorScript } from "../../../sandbox/server/guest";

describe("nspawnArguments", () => {
    const args = nspawnArguments({
        rootDir: "/var/lib/webstack-sandbox/default/root",
        hostName: "sandbox-default",
        netns: "webstack-default",
    });

    it("boots systemd in the server's root under its machine name", () => {
        expect(args).to.include.members(["--boot", "--directory=/var/lib/webstack-sandbox/default/root", "--machine=sandbox-default"]);
    });

    it("neither registers with machined nor asks for a scope unit (the host has no systemd as PID 1)", () => {
        expect(args).to.include.members(["--register=no", "--keep-unit"]);
    });

    it("lets the guest's systemd lower a service's out-of-memory score, as on an instance", () => {
        expect(args).to.include("--capability=CAP_SYS_RESOURCE");
    });

    it("joins the sandbox's namespace with a private network, so the guest may manage its firewall", () => {
        expect(args).to.include.members(["--network-namespace-path=/run/netns/webstack-default", "--private-network"]);
    });

    it("leaves the guest's resolv.conf alone (it names the sandbox's DNS server)", () => {
        expect(args).to.include("--resolv-conf=off");
    });
});

describe("supervisorScript", () => {
    const script = supervisorScript({
        sandboxName: "default",
        cgroups: ["/sys/fs/cgroup/unified/webstack-sandbox-default", "/sys/fs/cgroup/systemd/webstack-sandbox-default"],
        nspawnArguments: ["--boot", "--directory=/srv/it's here"],
    });

    it("moves itself into every cgroup of the server before it boots anything", () => {
        const join = script.indexOf('echo "$$" > "$cgroup/cgroup.procs"');
        expect(script).to.contain(
            "for cgroup in '/sys/fs/cgroup/unified/webstack-sandbox-default' '/sys/fs/cgroup/systemd/webstack-sandbox-default'; do",
        );
        expect(join).to.be.greaterThan(-1);
        expect(join).to.be.lessThan(script.indexOf("systemd-nspawn '"));
    });

    it("quotes nspawn's arguments for bash", () => {
        expect(script).to.contain(`systemd-nspawn '--boot' '--directory=/srv/it'\\''s here' &`);
    });

    it("boots again only when nspawn exits with the reboot code and it was not asked to stop", () => {
        expect(script).to.contain("if (( stopping )) || (( status != 133 )); then");
        expect(script).to.contain("trap stop_guest TERM INT");
    });

    it("gives the guest a unified cgroup hierarchy", () => {
        expect(script).to.contain("export SYSTEMD_NSPAWN_UNIFIED_HIERARCHY=1");
    });

    it("passes shellcheck", async () => {
        const directory = mkdtempSync(join(tmpdir(), "supervisor-"));
        try {
            writeFileSync(join(directory, "supervisor.sh"), script);
            await runCommand("shellcheck", [join(directory, "supervisor.sh")]);
        } finally {
            rmSync(directory, { recursive: true, force: true });
        }
    });
});

describe("passwdIds", () => {
    const passwd = "root:x:0:0:root:/root:/bin/bash\nadmin:x:1000:1000::/home/admin:/bin/bash\n";

    it("reads the user's uid and gid", () => {
        expect(passwdIds(passwd, "admin")).to.deep.equal({ uid: 1000, gid: 1000 });
    });

    it("says how to recover when the user is missing", () => {
        expect(() => passwdIds(passwd, "debian")).to.throw(/delete the base image to rebuild it/);
    });
});

describe("knownHostsLines", () => {
    it("pins each host key to the server's address, without the key's comment", () => {
        const keys = ["ssh-ed25519 AAAAC3Nza root@build\n", "ecdsa-sha2-nistp256 AAAAE2Vj root@build\n"];
        expect(knownHostsLines("198.18.1.2", keys)).to.equal("198.18.1.2 ssh-ed25519 AAAAC3Nza\n198.18.1.2 ecdsa-sha2-nistp256 AAAAE2Vj\n");
    });
});

describe("serverFiles", () => {
    const files = serverFiles({ hostName: "sandbox-default", dnsServer: "198.18.1.1", authorizedKey: "ssh-ed25519 AAAA webstack\n" });
    const byPath = new Map(files.map((file) => [file.path, file]));

    it("names the server and lets it resolve its own name", () => {
        expect(byPath.get("etc/hostname")?.content).to.equal("sandbox-default\n");
        expect(byPath.get("etc/hosts")?.content).to.contain("127.0.1.1\tsandbox-default");
    });

    it("uses the sandbox's DNS server", () => {
        expect(byPath.get("etc/resolv.conf")?.content).to.equal("nameserver 198.18.1.1\n");
    });

    it("authorizes the sandbox's client key for admin, readable by admin alone", () => {
        expect(byPath.get("home/admin/.ssh/authorized_keys")).to.deep.equal({
            path: "home/admin/.ssh/authorized_keys",
            content: "ssh-ed25519 AAAA webstack\n",
            mode: 0o600,
        });
    });
});
