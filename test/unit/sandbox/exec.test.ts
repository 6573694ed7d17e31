import { expect } from "chai";
import { CommandError, pollUntil, runCommand, tailLines } from "../../../sandbox/host/exec";

describe("tailLines", () => {
    it("keeps the last non-empty lines", () => {
        expect(tailLines("a\n\nb\nc\n\n", 2)).to.equal("b\nc");
    });
});

describe("runCommand", () => {
    it("returns stdout and feeds stdin", async () => {
        expect((await runCommand("cat", [], { input: "hello" })).stdout).to.equal("hello");
    });

    it("throws a CommandError that names the command, the exit code and the stderr tail", async () => {
        const error = await runCommand("bash", ["-c", "echo broken >&2; exit 3"]).catch((caught: unknown) => caught);
        expect(error).to.be.instanceOf(CommandError);
        expect((error as CommandError).message).to.equal("`bash -c echo broken >&2; exit 3` exited with 3:\nbroken");
    });

    it("returns a failure instead when asked to", async () => {
        expect((await runCommand("false", [], { allowFailure: true })).exitCode).to.equal(1);
    });

    it("says which program is missing", async () => {
        const error = await runCommand("no-such-program-here", []).catch((caught: Error) => caught);
        expect((error as Error).message).to.contain("no-such-program-here is not installed");
    });
});

describe("pollUntil", () => {
    it("asks until the attempt gives a value, and returns it", async () => {
        let attempts = 0;
        const value = await pollUntil(async () => (++attempts === 3 ? "ready" : undefined), { timeoutMs: 5_000, intervalMs: 1 });
        expect(value).to.equal("ready");
        expect(attempts).to.equal(3);
    });

    it("gives up with undefined once the time is up, having asked at least once more after the last pause", async () => {
        let attempts = 0;
        const started = Date.now();
        const value = await pollUntil(async () => void attempts++, { timeoutMs: 50, intervalMs: 10 });
        expect(value).to.equal(undefined);
        expect(attempts).to.be.above(1);
        expect(Date.now() - started).to.be.at.least(50);
    });

    it("stops at once when waiting is no longer worth it, whatever time is left", async () => {
        let attempts = 0;
        const value = await pollUntil(async () => void attempts++, { timeoutMs: 60_000, intervalMs: 1, worthWaiting: () => attempts < 2 });
        expect(value).to.equal(undefined);
        expect(attempts).to.equal(2);
    });
});
