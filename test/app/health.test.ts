import { expect } from "chai";
import { cachedProbe } from "../../app/src/app";

describe("cachedProbe", () => {
    it("runs the probe once per interval, and every caller in it shares the answer", async () => {
        let clock = 0;
        let runs = 0;
        const probe = cachedProbe(
            async () => (runs += 1) % 2 === 1,
            1_000,
            () => clock,
        );

        const first = await Promise.all([probe(), probe(), probe()]);
        clock = 999;
        const stillCached = await probe();
        clock = 1_000;
        const fresh = await probe();

        expect(first).to.deep.equal([true, true, true]);
        expect(stillCached).to.equal(true);
        expect(fresh).to.equal(false);
        expect(runs).to.equal(2);
    });
});
