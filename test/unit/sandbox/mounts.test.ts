import { expect } from "chai";
import { mountPointsUnder } from "../../../sandbox/server/mounts";

describe("mountPointsUnder", () => {
    const procMounts = [
        "/dev/vda / ext4 rw 0 0",
        "overlay /var/lib/webstack-sandbox/default/root overlay rw 0 0",
        "proc /var/lib/webstack-sandbox/default/root/proc proc rw 0 0",
        "overlay /var/lib/webstack-sandbox/default-2/root overlay rw 0 0",
        "tmpfs /var/lib/webstack-sandbox/default/root/with\\040space tmpfs rw 0 0",
    ].join("\n");

    it("lists the mount and the mounts below it, deepest first", () => {
        expect(mountPointsUnder(procMounts, "/var/lib/webstack-sandbox/default/root")).to.deep.equal([
            "/var/lib/webstack-sandbox/default/root/with space",
            "/var/lib/webstack-sandbox/default/root/proc",
            "/var/lib/webstack-sandbox/default/root",
        ]);
    });

    it("does not take a sibling whose name starts the same", () => {
        expect(mountPointsUnder(procMounts, "/var/lib/webstack-sandbox/default-2/")).to.deep.equal([
            "/var/lib/webstack-sandbox/default-2/root",
        ]);
    });
});
