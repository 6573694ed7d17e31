import { expect } from "chai";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
    ACME_DIRECTORY_PORT,
    ACME_MANAGEMENT_PORT,
    acmeServerPaths,
    acmeServerUrls,
    isPebbleWithConfig,
    listenerCaArguments,
    listenerCertificateArguments,
    pebbleArguments,
    pebbleConfig,
    PEBBLE_ENVIRONMENT,
    trustCaScript,
    type AcmeServerPaths,
} from "../../../sandbox/acme/acme";
import { runCommand } from "../../../sandbox/host/exec";
import { sandboxPaths } from "../../../sandbox/host/layout";

const paths = acmeServerPaths("e2e-https");

/** The same files in a scratch directory, to run openssl on. */
function scratchPaths(dir: string): AcmeServerPaths {
    const inDir = (path: string) => join(dir, path.split("/").pop() ?? "");
    return Object.fromEntries(Object.entries(paths).map(([key, path]) => [key, inDir(path)])) as unknown as AcmeServerPaths;
}

describe("acmeServerPaths", () => {
    it("keeps the ACME server's files in a directory beside the sandbox's, which destroying the sandbox leaves for stopping pebble", () => {
        expect(paths.dir).to.equal("/run/webstack-sandbox/e2e-https.acme");
        expect(paths.dir).to.not.equal(sandboxPaths("e2e-https").runtime);
        expect(Object.values(paths).every((path) => path.startsWith(paths.dir))).to.equal(true);
    });

    it("refuses a name that is not a sandbox name", () => {
        expect(() => acmeServerPaths("../etc")).to.throw(/Sandbox name/);
    });
});

describe("acmeServerUrls", () => {
    it("puts the ACME directory and the management listener's root and intermediate on the given address", () => {
        expect(acmeServerUrls("198.18.3.1")).to.deep.equal({
            directoryUrl: `https://198.18.3.1:${ACME_DIRECTORY_PORT}/dir`,
            rootUrl: `https://198.18.3.1:${ACME_MANAGEMENT_PORT}/roots/0`,
            intermediateUrl: `https://198.18.3.1:${ACME_MANAGEMENT_PORT}/intermediates/0`,
        });
    });
});

describe("pebbleConfig", () => {
    const config = JSON.parse(pebbleConfig("198.18.3.1", paths)).pebble;

    it("listens on the sandbox's host-side address only", () => {
        expect(config.listenAddress).to.equal(`198.18.3.1:${ACME_DIRECTORY_PORT}`);
        expect(config.managementListenAddress).to.equal(`198.18.3.1:${ACME_MANAGEMENT_PORT}`);
    });

    it("validates challenges on the server's real ports 80 and 443", () => {
        expect([config.httpPort, config.tlsPort]).to.deep.equal([80, 443]);
    });

    it("serves its listeners with the certificate made for them, and needs no OCSP or account binding", () => {
        expect([config.certificate, config.privateKey]).to.deep.equal([paths.listenerCertificate, paths.listenerKey]);
        expect(config.ocspResponderURL).to.equal("");
        expect(config.externalAccountBindingRequired).to.equal(false);
    });
});

describe("pebbleArguments", () => {
    it("reads the config file and resolves names through the sandbox's DNS server on port 53", () => {
        expect(pebbleArguments(paths.config, "198.18.3.1")).to.deep.equal(["-config", paths.config, "-dnsserver", "198.18.3.1:53"]);
    });
});

describe("PEBBLE_ENVIRONMENT", () => {
    it("turns off pebble's random validation sleeps and random nonce rejections", () => {
        expect(PEBBLE_ENVIRONMENT).to.deep.equal({ PEBBLE_VA_NOSLEEP: "1", PEBBLE_WFE_NONCEREJECT: "0" });
    });
});

describe("listenerCaArguments and listenerCertificateArguments", () => {
    let dir: string;
    let scratch: AcmeServerPaths;

    before(async () => {
        dir = mkdtempSync(join(tmpdir(), "acme-listener-"));
        scratch = scratchPaths(dir);
        await runCommand("openssl", listenerCaArguments(scratch));
        await runCommand("openssl", listenerCertificateArguments(scratch, "198.18.3.1"));
    });

    after(() => rmSync(dir, { recursive: true, force: true }));

    it("make a CA and a certificate for the listener's IP address that verifies against it under strict X.509 rules", async () => {
        const verified = await runCommand("openssl", [
            "verify",
            "-x509_strict",
            "-purpose",
            "sslserver",
            "-CAfile",
            scratch.listenerCa,
            scratch.listenerCertificate,
        ]);
        expect(verified.stdout.trim()).to.equal(`${scratch.listenerCertificate}: OK`);
        const text = (await runCommand("openssl", ["x509", "-in", scratch.listenerCertificate, "-noout", "-ext", "subjectAltName"])).stdout;
        expect(text).to.contain("IP Address:198.18.3.1");
    });

    it("leave the keys unencrypted, so that pebble can read its key at start", () => {
        expect(readFileSync(scratch.listenerKey, "utf8")).to.match(/^-----BEGIN PRIVATE KEY-----/);
    });
});

describe("isPebbleWithConfig", () => {
    it("recognises pebble started with the config file, by its /proc cmdline", () => {
        const cmdline = ["/usr/bin/pebble", "-config", paths.config, "-dnsserver", "198.18.3.1:53", ""].join("\0");
        expect(isPebbleWithConfig(cmdline, paths.config)).to.equal(true);
    });

    it("rejects another program, or pebble of another sandbox, that has the pid now", () => {
        expect(isPebbleWithConfig(`/usr/bin/sleep\0${paths.config}\0`, paths.config)).to.equal(false);
        expect(isPebbleWithConfig(`/usr/bin/pebble\0-config\0${acmeServerPaths("other").config}\0`, paths.config)).to.equal(false);
        expect(isPebbleWithConfig("", paths.config)).to.equal(false);
    });
});

describe("trustCaScript", () => {
    let dir: string;
    let installed: string;
    let bundleRebuilds: string;
    const runScript = async (pem: string) =>
        (
            await runCommand("bash", ["-euo", "pipefail", "-c", trustCaScript(installed)], {
                input: pem,
                env: { PATH: `${dir}/bin:${process.env.PATH}` },
            })
        ).stdout.trim();

    beforeEach(() => {
        dir = mkdtempSync(join(tmpdir(), "acme-trust-"));
        installed = join(dir, "ca certificates", "acme.crt");
        bundleRebuilds = join(dir, "rebuilds");
        mkdirSync(join(dir, "ca certificates"));
        mkdirSync(join(dir, "bin"));
        // A stand-in for update-ca-certificates that counts its runs.
        writeFileSync(join(dir, "bin", "update-ca-certificates"), `#!/bin/sh\necho run >> '${bundleRebuilds}'\n`, { mode: 0o755 });
    });

    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    const rebuilds = () => readFileSync(bundleRebuilds, "utf8").split("\n").filter(Boolean).length;

    it("installs the CA and rebuilds the trust bundle the first time", async () => {
        expect(await runScript("-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----\n")).to.equal("changed");
        expect(readFileSync(installed, "utf8")).to.equal("-----BEGIN CERTIFICATE-----\nA\n-----END CERTIFICATE-----\n");
        expect(rebuilds()).to.equal(1);
    });

    it("changes nothing when the same CA is installed already", async () => {
        await runScript("PEM A\n");
        expect(await runScript("PEM A\n")).to.equal("unchanged");
        expect(rebuilds()).to.equal(1);
    });

    it("replaces a CA of an earlier pebble and rebuilds the bundle again", async () => {
        await runScript("PEM A\n");
        expect(await runScript("PEM B\n")).to.equal("changed");
        expect(readFileSync(installed, "utf8")).to.equal("PEM B\n");
        expect(rebuilds()).to.equal(2);
    });
});
