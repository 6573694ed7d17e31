import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { installMocks, resetRecords, resources, settle, valueOf } from "../../support/pulumiMocks";
import { declaredResources, SINGLE_TOPOLOGY_CONFIGS } from "./declared";

const FIXTURE = join(__dirname, "fixtures", "single-topology.json");

type Program = () => Promise<Record<string, string | pulumi.Output<unknown>>>;

async function declaredBy(config: Record<string, string>): Promise<unknown[]> {
    resetRecords();
    pulumi.runtime.setAllConfig(config, Object.keys(config).filter((key) => key.endsWith("sshPrivateKey")));
    const program = (await import("../../../index")).default as unknown as Program;
    for (const output of Object.values(await program())) {
        if (typeof output !== "string") {
            await valueOf(output);
        }
    }
    await settle();
    return declaredResources(resources());
}

describe("the single-server topology", function () {
    this.timeout(120_000);

    before(installMocks);

    const pinned = JSON.parse(readFileSync(FIXTURE, "utf8")) as Record<string, unknown[]>;
    for (const [name, config] of Object.entries(SINGLE_TOPOLOGY_CONFIGS)) {
        it(`declares exactly the resources it declared before topologies existed (${name} config), input for input`, async () => {
            expect(await declaredBy(config)).to.deep.equal(pinned[name]);
        });
    }
});
