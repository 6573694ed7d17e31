import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { PENDING_SECURITY_UPDATES_COMMAND, SERVER_PACKAGES } from "../../../provisioning/steps/packages";
import { runBash, temporaryDirectory } from "../../support/shell";

/** What `apt-get -s upgrade` prints on a Debian 13 server with updates from three archives pending. */
const SIMULATED_UPGRADE = [
    "Reading package lists...",
    "The following packages will be upgraded:",
    "  libzstd1 login.defs tzdata",
    "Inst libzstd1 [1.5.6+dfsg-2] (1.5.6+dfsg-2+deb13u1 Debian-Security:13/stable-security [amd64])",
    "Inst login.defs [1:4.17.4-2] (1:4.17.4-2+deb13u1 Debian-Security:13/stable-security [all])",
    "Inst tzdata [2025b-4] (2025c-0+deb13u1 Debian:13.3/stable [all])",
    "Conf libzstd1 (1.5.6+dfsg-2+deb13u1 Debian-Security:13/stable-security [amd64])",
].join("\n");

describe("PENDING_SECURITY_UPDATES_COMMAND", () => {
    let bin: string;

    before(() => {
        bin = temporaryDirectory("apt-get-stub");
        fs.writeFileSync(path.join(bin, "apt-get"), `#!/bin/sh\ncat <<'END'\n${SIMULATED_UPGRADE}\nEND\n`, { mode: 0o755 });
    });

    after(() => fs.rmSync(bin, { recursive: true, force: true }));

    it("names the packages with an update from the security archive, and no others", () => {
        const result = runBash(PENDING_SECURITY_UPDATES_COMMAND, { PATH: `${bin}:${process.env.PATH}` });
        expect(result.status).to.equal(0);
        expect(result.stdout.trim().split("\n")).to.deep.equal(["libzstd1", "login.defs"]);
    });
});

describe("SERVER_PACKAGES", () => {
    it("names each package once", () => {
        expect(new Set(SERVER_PACKAGES).size).to.equal(SERVER_PACKAGES.length);
    });
});
