import { expect } from "chai";
import { CommandError, runCommand, tailLines } from "../../../sandbox/exec";

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
