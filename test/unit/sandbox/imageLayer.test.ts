import { expect } from "chai";
import { basename } from "node:path";
import { layerInstallCommand, packageLayerDir } from "../../../sandbox/server/imageLayer";
import { shellcheck } from "../../support/shell";

describe("packageLayerDir", () => {
    const base = "/var/cache/webstack-sandbox/base-trixie-0123456789ab";
    const layer = { name: "server-packages", packages: ["nginx", "nodejs"] };

    it("names the layer and keeps it in the sandbox's cache", () => {
        expect(packageLayerDir([base], layer)).to.match(/^\/var\/cache\/webstack-sandbox\/layer-server-packages-[0-9a-f]{12}$/);
    });

    it("is the same for the same packages in any order", () => {
        expect(packageLayerDir([base], { ...layer, packages: ["nodejs", "nginx"] })).to.equal(packageLayerDir([base], layer));
    });

    it("is another layer for other packages, or over another image", () => {
        const dirs = [
            packageLayerDir([base], layer),
            packageLayerDir([base], { ...layer, packages: ["nginx"] }),
            packageLayerDir([`${base}-other`], layer),
            packageLayerDir(["/var/cache/webstack-sandbox/layer-cloud-init-aaaaaaaaaaaa", base], layer),
        ];
        expect(new Set(dirs.map((dir) => basename(dir))).size).to.equal(dirs.length);
    });
});

describe("layerInstallCommand", () => {
    const command = layerInstallCommand(["nginx", "default-mysql-server"]);

    it("installs the packages without recommends, after fresh lists", () => {
        expect(command).to.contain(
            "apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends nginx default-mysql-server",
        );
    });

    it("starts no service while it installs, and leaves no policy behind to stop the server's later", () => {
        const steps = command.split(" && ");
        const install = steps.findIndex((step) => step.includes("apt-get install"));
        expect(steps.findIndex((step) => step.startsWith("printf '#!/bin/sh\\nexit 101\\n' > /usr/sbin/policy-rc.d"))).to.be.lessThan(
            install,
        );
        expect(steps.indexOf("rm /usr/sbin/policy-rc.d")).to.be.greaterThan(install);
    });

    it("leaves neither downloaded packages nor lists in the layer", () => {
        expect(command).to.match(/apt-get clean && rm -rf \/var\/lib\/apt\/lists\/\*$/);
    });

    it("passes shellcheck", () => {
        expect(shellcheck(`#!/bin/bash\n${command}\n`)).to.equal("");
    });
});
