import { expect } from "chai";
import {
    aptSources,
    baseImageChrootCommands,
    baseImageDir,
    baseImageFiles,
    debootstrapArguments,
    hostsFile,
} from "../../../sandbox/server/baseImage";

describe("debootstrapArguments", () => {
    it("builds a minbase trixie from Debian's mirror with only what a cloud image needs", () => {
        expect(debootstrapArguments("/tmp/base")).to.deep.equal([
            "--variant=minbase",
            "--include=systemd,systemd-sysv,dbus,openssh-server,ca-certificates,curl,sudo,iproute2",
            "trixie",
            "/tmp/base",
            "http://deb.debian.org/debian",
        ]);
    });
});

describe("aptSources", () => {
    it("lists trixie, trixie-updates and trixie-security over plain HTTP", () => {
        const sources = aptSources();
        expect(sources).to.contain("URIs: http://deb.debian.org/debian\nSuites: trixie trixie-updates\n");
        expect(sources).to.contain("URIs: http://deb.debian.org/debian-security\nSuites: trixie-security\n");
    });
});

describe("hostsFile", () => {
    it("maps localhost and the machine's own name to loopback", () => {
        expect(hostsFile("debian")).to.match(/^127\.0\.0\.1\tlocalhost\n127\.0\.1\.1\tdebian\n/);
    });
});

describe("baseImageFiles", () => {
    const files = new Map(baseImageFiles().map((file) => [file.path, file]));

    it("leaves the machine id empty, so that every server gets its own", () => {
        expect(files.get("etc/machine-id")?.content).to.equal("");
    });

    it("gives admin passwordless sudo in a file only root can read", () => {
        expect(files.get("etc/sudoers.d/90-admin")).to.deep.equal({
            path: "etc/sudoers.d/90-admin",
            content: "admin ALL=(ALL) NOPASSWD:ALL\n",
            mode: 0o440,
        });
    });

    it("turns off password logins like a cloud image", () => {
        expect(files.get("etc/ssh/sshd_config.d/50-cloud-image.conf")?.content).to.contain("PasswordAuthentication no");
    });
});

describe("baseImageChrootCommands", () => {
    it("creates admin in the sudo group and trusts the copied CA certificates", () => {
        const commands = baseImageChrootCommands().map((command) => command.join(" "));
        expect(commands).to.include("useradd --create-home --shell /bin/bash --groups sudo admin");
        expect(commands).to.include("update-ca-certificates");
    });
});

describe("baseImageDir", () => {
    it("names the cached image after the suite and a hash of the recipe, the same on every call", () => {
        expect(baseImageDir()).to.match(/^\/var\/cache\/webstack-sandbox\/base-trixie-[0-9a-f]{12}$/);
        expect(baseImageDir()).to.equal(baseImageDir());
    });
});
