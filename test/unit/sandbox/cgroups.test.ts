import { expect } from "chai";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cgroupTree, memoryLimitFiles, parseCgroupProcs, processInCgroup } from "../../../sandbox/server/cgroups";

describe("cgroupTree", () => {
    it("lists a cgroup and its descendants deepest first, the order rmdir needs", () => {
        const root = mkdtempSync(join(tmpdir(), "cgroup-"));
        try {
            mkdirSync(join(root, "payload", "system.slice"), { recursive: true });
            mkdirSync(join(root, "supervisor"));
            const tree = cgroupTree(root);
            expect(tree[tree.length - 1]).to.equal(root);
            expect(tree.indexOf(join(root, "payload", "system.slice"))).to.be.lessThan(tree.indexOf(join(root, "payload")));
            expect(tree).to.have.length(4);
        } finally {
            rmSync(root, { recursive: true, force: true });
        }
    });

    it("is empty for a cgroup that does not exist", () => {
        expect(cgroupTree("/nonexistent/cgroup")).to.deep.equal([]);
    });
});

describe("parseCgroupProcs", () => {
    it("reads one pid per line", () => {
        expect(parseCgroupProcs("12\n345\n")).to.deep.equal([12, 345]);
        expect(parseCgroupProcs("")).to.deep.equal([]);
    });
});

describe("processInCgroup", () => {
    it("finds the sandbox's cgroup in any hierarchy of /proc/PID/cgroup", () => {
        const text = "12:pids:/\n1:name=systemd:/webstack-sandbox-default\n0::/webstack-sandbox-default/supervisor\n";
        expect(processInCgroup(text, "webstack-sandbox-default")).to.equal(true);
    });

    it("does not mistake another sandbox's cgroup for it", () => {
        expect(processInCgroup("0::/webstack-sandbox-default-2\n", "webstack-sandbox-default")).to.equal(false);
    });
});

describe("memoryLimitFiles", () => {
    it("holds the memory and the memory plus swap to the same bytes, memory first", () => {
        expect(memoryLimitFiles("/sys/fs/cgroup/memory/webstack-sandbox-bench", 1024)).to.deep.equal([
            ["/sys/fs/cgroup/memory/webstack-sandbox-bench/memory.limit_in_bytes", "1073741824"],
            ["/sys/fs/cgroup/memory/webstack-sandbox-bench/memory.memsw.limit_in_bytes", "1073741824"],
        ]);
    });

    it("refuses a limit too small to boot a server, naming an example", () => {
        expect(() => memoryLimitFiles("/x", 100)).to.throw(
            /memory limit is 100 MiB; give a whole number of at least 256, for example 1024/,
        );
    });
});
