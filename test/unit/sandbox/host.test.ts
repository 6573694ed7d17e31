import { expect } from "chai";
import { missingPackages, unsupportedHostReason } from "../../../sandbox/host/host";

describe("unsupportedHostReason", () => {
    it("accepts root on Linux", () => {
        expect(unsupportedHostReason("linux", 0)).to.equal(undefined);
    });

    it("asks for root and shows how", () => {
        expect(unsupportedHostReason("linux", 1000)).to.contain("sudo npm run sandbox");
    });

    it("says that Linux is needed on other systems", () => {
        expect(unsupportedHostReason("darwin", 501)).to.match(/needs Linux; this is darwin/);
    });
});

describe("missingPackages", () => {
    it("returns the wanted packages that dpkg does not report as installed", () => {
        const status = [
            "debootstrap install ok installed",
            "nftables deinstall ok config-files",
            "iproute2:amd64 install ok installed",
            "",
        ].join("\n");
        expect(missingPackages(["debootstrap", "nftables", "iproute2", "dnsmasq-base"], status)).to.deep.equal([
            "nftables",
            "dnsmasq-base",
        ]);
    });
});
