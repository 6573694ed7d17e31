import { expect } from "chai";
import { readFileSync } from "node:fs";
import { installMocks } from "../../support/pulumiMocks";
import { declaredBy, FIXTURE, SINGLE_TOPOLOGY_CONFIGS } from "./declared";

describe("the single-server topology", function () {
    this.timeout(120_000);

    before(installMocks);

    const pinned = JSON.parse(readFileSync(FIXTURE, "utf8")) as Record<string, unknown[]>;
    for (const [name, config] of Object.entries(SINGLE_TOPOLOGY_CONFIGS)) {
        it(`declares exactly the resources pinned in the fixture (${name} config), input for input`, async () => {
            expect(await declaredBy(config)).to.deep.equal(pinned[name]);
        });
    }
});
