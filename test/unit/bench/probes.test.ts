import { expect } from "chai";
import { spawn } from "node:child_process";
import { withProgramPeakMiB } from "../../../bench/probes";

describe("withProgramPeakMiB", () => {
    it("reports the highest resident memory a process running the program reached while the work ran", async () => {
        // A stand-in for the engine's program: the runner's path on its command line, 200 MiB touched, then held.
        const touch200MiB = "const held = Buffer.alloc(200 * 1024 * 1024, 1); setTimeout(() => held.length, 1500);";
        const { peakMiB } = await withProgramPeakMiB(
            () =>
                new Promise<void>((resolve) =>
                    spawn(process.execPath, ["-e", touch200MiB, "node_modules/@pulumi/pulumi/cmd/run/index.js"]).on("exit", () =>
                        resolve(),
                    ),
                ),
        );
        expect(peakMiB).to.be.within(200, 400);
    });
});
