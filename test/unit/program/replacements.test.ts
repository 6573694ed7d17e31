import { expect } from "chai";
import { installMocks, type RecordedResource } from "../../support/pulumiMocks";
import { changedInputs, replaces } from "../awsApi/resourceChanges";
import { declaredByProgram, HA_TOPOLOGY_CONFIG, SINGLE_TOPOLOGY_CONFIGS } from "./declared";

/**
 * The stateful resources: a replacement loses the server's disk, the database or the plan bucket.
 * `protect` refuses one at run time; this test shows that a change a user makes often never asks for
 * one (which inputs replace them: RESOURCE_CHANGES, from AWS's provider).
 */
const STATEFUL: readonly string[] = ["aws:ec2/instance:Instance", "aws:rds/instance:Instance", "aws:s3/bucket:Bucket"];

/** The inputs of the stack's stateful resources that a config change alters and that would replace them. */
async function replacingChanges(config: Record<string, string>, change: Record<string, string>): Promise<string[]> {
    const stateful = (resources: readonly RecordedResource[]) => resources.filter((resource) => STATEFUL.includes(resource.type));
    const before = stateful(await declaredByProgram(config));
    const after = stateful(await declaredByProgram({ ...config, ...change }));
    return after.flatMap((resource) => {
        const previous = before.find((candidate) => candidate.type === resource.type && candidate.name === resource.name);
        const changed = previous === undefined ? ["(a new resource)"] : changedInputs(previous, resource);
        return changed
            .filter((path) => path === "(a new resource)" || replaces(resource.type, path))
            .map((path) => `${resource.name} ${path}`);
    });
}

describe("the stateful resources under the config changes users make", function () {
    this.timeout(120_000);

    before(installMocks);

    const single = SINGLE_TOPOLOGY_CONFIGS.dev;
    const singleChanges: Record<string, Record<string, string>> = {
        "a bigger instance of the same architecture": { "webstack:instanceType": "t3.small" },
        "more app instances": { "webstack:appInstances": "3" },
        "a bigger disk": { "webstack:rootVolumeSizeGiB": "32" },
        alerts: { "webstack:alertEmail": "ops@example.com" },
        "fewer snapshots": { "webstack:dailySnapshots": "3" },
        "another DNS TTL": { "webstack:dnsTtl": "60" },
        "a new SSH key": {
            "webstack:sshPublicKey": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMk9ym+6rENYODf+mc9ykTLmXS4Hoo9iOD8fOORXLueR new@laptop",
        },
        "another SSH block": { "webstack:sshAllowedCidrs": '["198.51.100.0/24"]' },
        HTTPS: { "webstack:acmeEmail": "admin@example.com" },
        "the apex record": { "webstack:createApexRecord": "true" },
        "an app setting": { "webstack:appEnvironment": JSON.stringify({ API_TOKEN: "rotated" }) },
    };
    for (const [what, change] of Object.entries(singleChanges)) {
        it(`replaces nothing of one server for ${what}`, async () => {
            expect(await replacingChanges(single, change)).to.deep.equal([]);
        });
    }

    const fleetChanges: Record<string, Record<string, string>> = {
        "bigger app servers": { "webstack:instanceType": "t3.small" },
        "more app servers": { "webstack:minAppServers": "3", "webstack:maxAppServers": "6" },
        "a bigger database class": { "webstack:databaseInstanceClass": "db.t4g.small" },
        "an app setting": { "webstack:appEnvironment": JSON.stringify({ API_TOKEN: "rotated" }) },
        "no alerts": { "webstack:alertEmail": "" },
    };
    for (const [what, change] of Object.entries(fleetChanges)) {
        it(`replaces neither the fleet's database nor its plan bucket for ${what}`, async () => {
            expect(await replacingChanges(HA_TOPOLOGY_CONFIG, change)).to.deep.equal([]);
        });
    }

    it("does replace the server for a deliberate new image, which protect then stops until it is lifted", async () => {
        expect(await replacingChanges(single, { "webstack:amiId": "ami-0123456789abcdef0" })).to.deep.equal(["webstack-instance ami"]);
    });
});
