import { expect } from "chai";
import { accessInstructions, parseCliArguments, restoreArguments } from "../../../sandbox/cli";
import { describeSandbox } from "../../../sandbox/host/state";
import { sandboxPaths } from "../../../sandbox/host/layout";

describe("parseCliArguments", () => {
    it("boots the default sandbox for webstack.test when given nothing", () => {
        expect(parseCliArguments([])).to.deep.equal({
            command: "up",
            name: "default",
            domain: "webstack.test",
            verbose: false,
            https: false,
            ha: false,
            pulumi: false,
        });
    });

    it("reads the subcommand and the options in any order", () => {
        expect(parseCliArguments(["--name=e2e", "deploy", "--domain=example.org", "--verbose"])).to.deep.equal({
            command: "deploy",
            name: "e2e",
            domain: "example.org",
            verbose: true,
            https: false,
            ha: false,
            pulumi: false,
        });
    });

    it("runs the fleet sandbox, named ha unless named otherwise, for up, deploy, rollback and destroy only, with HTTPS of its own", () => {
        expect(parseCliArguments(["--ha"])).to.deep.include({ command: "up", name: "ha", ha: true });
        expect(parseCliArguments(["deploy", "--ha", "--name=fleet2"])).to.deep.include({ command: "deploy", name: "fleet2", ha: true });
        expect(parseCliArguments(["rollback", "--ha"])).to.deep.include({ command: "rollback", name: "ha", ha: true });
        expect(() => parseCliArguments(["backup", "--ha"])).to.throw(/--ha goes with up, deploy, rollback, destroy/);
        expect(() => parseCliArguments(["--ha", "--https"])).to.throw(/its load balancer terminates it/);
    });

    it("applies the plan through the real Pulumi engine with --pulumi, for up and deploy of a single server over HTTP", () => {
        expect(parseCliArguments(["--pulumi"])).to.include({ command: "up", pulumi: true });
        expect(parseCliArguments(["deploy", "--pulumi", "--name=e2e"])).to.include({ command: "deploy", name: "e2e", pulumi: true });
        expect(() => parseCliArguments(["status", "--pulumi"])).to.throw(
            /--pulumi goes with up and deploy; the other commands work the same/,
        );
        expect(() => parseCliArguments(["--pulumi", "--ha"])).to.throw(/leave out --ha/);
        expect(() => parseCliArguments(["--pulumi", "--https"])).to.throw(/leave out --https/);
    });

    it("refuses an unknown subcommand with the usage", () => {
        expect(() => parseCliArguments(["launch"])).to.throw(
            /Unknown argument "launch"\.\nusage: npm run sandbox -- \[up\|deploy\|rollback\|backup\|restore\|status\|destroy\]/,
        );
    });

    it("refuses a second subcommand and unknown options", () => {
        expect(() => parseCliArguments(["status", "destroy"])).to.throw(/Unknown argument "destroy"/);
        expect(() => parseCliArguments(["--force"])).to.throw(/Unknown argument "--force"/);
    });

    it("takes --https with up only", () => {
        expect(parseCliArguments(["--https"])).to.include({ command: "up", https: true });
        expect(() => parseCliArguments(["deploy", "--https"])).to.throw(/--https goes with up/);
    });

    it("restores the newest dump, or the one named with --dump, which goes with restore only", () => {
        expect(parseCliArguments(["restore"])).to.deep.equal({
            command: "restore",
            name: "default",
            domain: "webstack.test",
            verbose: false,
            https: false,
            ha: false,
            pulumi: false,
        });
        expect(parseCliArguments(["restore", "--dump=webstack-20261129T031500Z.sql.gz"])).to.include({
            dump: "webstack-20261129T031500Z.sql.gz",
        });
        expect(() => parseCliArguments(["backup", "--dump=x.sql.gz"])).to.throw(/--dump and --until go with restore/);
        expect(() => parseCliArguments(["restore", "--dump=../etc/passwd"])).to.throw(/Unknown argument "--dump=\.\.\/etc\/passwd"/);
    });

    it("restores to a second with --until, which picks the dump itself", () => {
        expect(parseCliArguments(["restore", "--until=2026-12-07 09:10:00"])).to.include({ until: "2026-12-07 09:10:00" });
        expect(() => parseCliArguments(["status", "--until=2026-12-07"])).to.throw(/--dump and --until go with restore/);
        expect(() => parseCliArguments(["restore", "--until=2026-12-07", "--dump=x.sql.gz"])).to.throw(/Only one of --dump and --until/);
    });

    it("validates the name and the domain", () => {
        expect(() => parseCliArguments(["--name=Bad"])).to.throw(/Sandbox name "Bad"/);
        expect(() => parseCliArguments(["--domain=www.example.org"])).to.throw(
            /Domain "www.example.org" starts with "www."; give the apex domain \(example.org\)/,
        );
    });
});

describe("accessInstructions", () => {
    const sandbox = describeSandbox(
        { name: "default", subnetIndex: 1, domain: "webstack.test", createdAt: "2026-01-01T00:00:00Z" },
        sandboxPaths("default"),
    );
    const text = accessInstructions(sandbox).join("\n");

    it("gives the URL, the DNS server to ask and a curl that needs no DNS", () => {
        expect(text).to.contain("http://www.webstack.test/");
        expect(text).to.contain("dig @198.18.1.1 www.webstack.test");
        expect(text).to.contain("curl --resolve www.webstack.test:80:198.18.1.2 http://www.webstack.test/");
    });

    it("gives an https URL and a curl that trusts pebble's root when the site serves HTTPS", () => {
        const https = accessInstructions(sandbox, "/run/webstack-sandbox/default/acme-root.pem").join("\n");
        expect(https).to.contain("https://www.webstack.test/");
        expect(https).to.contain(
            "curl --cacert /run/webstack-sandbox/default/acme-root.pem --resolve www.webstack.test:443:198.18.1.2 https://www.webstack.test/",
        );
    });

    it("gives the ssh command with the sandbox's key and pinned host keys", () => {
        expect(text).to.contain(
            "ssh -i /run/webstack-sandbox/default/id_ed25519 -o UserKnownHostsFile=/run/webstack-sandbox/default/known_hosts admin@198.18.1.2",
        );
    });
});

describe("restoreArguments", () => {
    it("passes the time to webstack-restore --until quoted, the dump's name quoted, or nothing for the newest dump", () => {
        expect(restoreArguments({ until: "2026-12-07 09:10:00" })).to.deep.equal(["--until", "'2026-12-07 09:10:00'"]);
        expect(restoreArguments({ dump: "webstack-20261129T031500Z.sql.gz" })).to.deep.equal(["'webstack-20261129T031500Z.sql.gz'"]);
        expect(restoreArguments({})).to.deep.equal([]);
    });
});
