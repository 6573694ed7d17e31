import { expect } from "chai";
import { isDomainName, isEmailAddress, isHttpsUrl, publicKeyMaterial } from "../../../provisioning/formats";

describe("isDomainName", () => {
    it("accepts lowercase names of two or more labels", () => {
        for (const name of ["example.com", "webstack.test", "a-b.example.co.uk", "x1.io"]) {
            expect(isDomainName(name), name).to.equal(true);
        }
    });

    it("rejects single labels, edge hyphens, uppercase, spaces and over-long labels", () => {
        for (const name of [
            "localhost",
            "-bad.com",
            "bad-.com",
            "Example.com",
            "not a domain",
            `${"a".repeat(64)}.com`,
            "example.c",
            "example.123",
        ]) {
            expect(isDomainName(name), name).to.equal(false);
        }
    });
});

describe("isEmailAddress", () => {
    it("wants a local part, an @ and a dotted domain", () => {
        expect(isEmailAddress("ops@example.com")).to.equal(true);
        expect(isEmailAddress("ops@localhost")).to.equal(false);
        expect(isEmailAddress("ops example.com")).to.equal(false);
        expect(isEmailAddress("a@b@c.com")).to.equal(false);
    });
});

describe("isHttpsUrl", () => {
    it("accepts https URLs only", () => {
        expect(isHttpsUrl("https://acme-v02.api.letsencrypt.org/directory")).to.equal(true);
        expect(isHttpsUrl("http://acme.example/dir")).to.equal(false);
        expect(isHttpsUrl("acme.example/dir")).to.equal(false);
    });
});

describe("publicKeyMaterial", () => {
    it("is the key's type and body, whatever its comment and spacing", () => {
        expect(publicKeyMaterial("ssh-ed25519 AAAAC3Nz dev@laptop")).to.equal("ssh-ed25519 AAAAC3Nz");
        expect(publicKeyMaterial("  ssh-rsa  AAAAB3Nz  a comment with spaces\n")).to.equal("ssh-rsa AAAAB3Nz");
        expect(publicKeyMaterial("ssh-ed25519 AAAAC3Nz")).to.equal("ssh-ed25519 AAAAC3Nz");
    });
});
