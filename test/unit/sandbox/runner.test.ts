import { expect } from "chai";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCommand } from "../../../sandbox/host/exec";
import { parseChangedCount, PlanStepError, stepFailureMessage, stepSummary, uploadCommand } from "../../../sandbox/executors/runner";

describe("parseChangedCount", () => {
    it("reads N from a last line `changed: N`", () => {
        expect(parseChangedCount("installing nginx\nchanged: 3\n")).to.equal(3);
        expect(parseChangedCount("changed: 0")).to.equal(0);
    });

    it("ignores trailing blank lines and surrounding spaces", () => {
        expect(parseChangedCount("changed: 12  \n\n\n")).to.equal(12);
    });

    it("is undefined when the last line is something else, even if an earlier line matched", () => {
        expect(parseChangedCount("changed: 2\ndone\n")).to.equal(undefined);
        expect(parseChangedCount("")).to.equal(undefined);
        expect(parseChangedCount("changed: many\n")).to.equal(undefined);
    });
});

describe("stepFailureMessage and PlanStepError", () => {
    it("names the step and its exit code and quotes the stderr tail line by line", () => {
        const message = stepFailureMessage("nginx", 1, "nginx: [emerg] unknown directive\nnginx: configuration file test failed");
        expect(message).to.equal(
            'Plan step "nginx" failed with exit code 1:\n  | nginx: [emerg] unknown directive\n  | nginx: configuration file test failed',
        );
    });

    it("says so when the step printed nothing on stderr", () => {
        expect(stepFailureMessage("deploy", 2, "")).to.equal(
            'Plan step "deploy" failed with exit code 2:\n  (it printed nothing on stderr)',
        );
    });

    it("adds the last lines of progress when the step printed any", () => {
        expect(stepFailureMessage("deploy", 1, "error: migrations failed", "unpacked release abc\nmigrating the database")).to.equal(
            'Plan step "deploy" failed with exit code 1:\n  | error: migrations failed\nits last output lines:\n  | unpacked release abc\n  | migrating the database',
        );
    });

    it("keeps the step, exit code and tail for callers", () => {
        const error = new PlanStepError("database", 3, "access denied");
        expect(error).to.include({ step: "database", exitCode: 3, stderrTail: "access denied" });
        expect(error.message).to.equal(stepFailureMessage("database", 3, "access denied"));
    });
});

describe("stepSummary", () => {
    it("shows the step's name, duration and changes", () => {
        expect(stepSummary({ name: "base", seconds: 45.37, changed: 4 })).to.equal("  ✓ base (45.4 s, changed: 4)");
    });

    it("leaves out the changes when the step reported none", () => {
        expect(stepSummary({ name: "base", seconds: 1, changed: undefined })).to.equal("  ✓ base (1.0 s)");
    });
});

describe("uploadCommand", () => {
    let directory: string;
    beforeEach(() => {
        directory = mkdtempSync(join(tmpdir(), "upload-"));
    });
    afterEach(() => rmSync(directory, { recursive: true, force: true }));

    const upload = (remotePath: string, content: string) =>
        runCommand("bash", ["-c", uploadCommand(remotePath, createHash("sha256").update(content).digest("hex"))], { input: content });

    it("writes stdin to the path and reports one change", async () => {
        const target = join(directory, "release it's.tar.gz");
        const result = await upload(target, "first");
        expect(readFileSync(target, "utf8")).to.equal("first");
        expect(parseChangedCount(result.stdout)).to.equal(1);
    });

    it("reports no change when the file there has the same content", async () => {
        const target = join(directory, "release.tar.gz");
        writeFileSync(target, "same");
        expect(parseChangedCount((await upload(target, "same")).stdout)).to.equal(0);
    });

    it("replaces a file with other content and leaves no partial file", async () => {
        const target = join(directory, "release.tar.gz");
        writeFileSync(target, "old");
        expect(parseChangedCount((await upload(target, "new")).stdout)).to.equal(1);
        expect(readFileSync(target, "utf8")).to.equal("new");
        expect((await runCommand("ls", [directory])).stdout.trim()).to.equal("release.tar.gz");
    });
});
