/**
 * Writes fixtures/single-topology.json from what the program declares now, for each of
 * SINGLE_TOPOLOGY_CONFIGS: run it after a deliberate change to the AWS resources, and review the
 * fixture's diff as part of the change (`npx tsx test/unit/program/pinFixture.ts`).
 */
import { writeFileSync } from "node:fs";
import { installMocks } from "../../support/pulumiMocks";
import { declaredBy, FIXTURE, SINGLE_TOPOLOGY_CONFIGS } from "./declared";

async function pinFixture(): Promise<void> {
    await installMocks();
    const pinned: Record<string, unknown[]> = {};
    for (const [name, config] of Object.entries(SINGLE_TOPOLOGY_CONFIGS)) {
        pinned[name] = await declaredBy(config);
    }
    writeFileSync(FIXTURE, `${JSON.stringify(pinned, null, 2)}\n`);
    console.log(`written: ${FIXTURE}`);
}

// Only when run as a script: mocha, given this folder, loads every file in it.
if (require.main === module) {
    pinFixture().catch((error: unknown) => {
        console.error(error);
        process.exit(1);
    });
}
