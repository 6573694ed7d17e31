import { expect } from "chai";
import { installMocks, type RecordedResource } from "../../support/pulumiMocks";
import { declaredByProgram, HA_TOPOLOGY_CONFIG, SINGLE_TOPOLOGY_CONFIGS } from "./declared";

/**
 * The inputs of each stateful resource that make AWS's provider replace it rather than update it
 * (ForceNew in the provider's documentation): a replacement loses the server's disk, the database or
 * the plan bucket. `protect` refuses one at run time; this test shows that a change a user makes
 * often never asks for one.
 */
const REPLACING_INPUTS: Readonly<Record<string, readonly string[]>> = {
    "aws:ec2/instance:Instance": [
        "ami",
        "availabilityZone",
        "subnetId",
        "keyName",
        "privateIp",
        "tenancy",
        "placementGroup",
        "hostId",
        "associatePublicIpAddress",
        "ebsBlockDevices",
        "ephemeralBlockDevices",
        "networkInterfaces",
        "launchTemplate",
        "cpuOptions",
        "hibernation",
        "rootBlockDevice.encrypted",
        "rootBlockDevice.kmsKeyId",
    ],
    "aws:rds/instance:Instance": [
        "identifier",
        "identifierPrefix",
        "dbName",
        "username",
        "engine",
        "storageEncrypted",
        "kmsKeyId",
        "availabilityZone",
        "characterSetName",
        "timezone",
        "snapshotIdentifier",
    ],
    "aws:s3/bucket:Bucket": ["bucket", "bucketPrefix", "objectLockEnabled"],
};

/** Every leaf path of a value (keys joined by dots, list items left out) with its value. */
function leaves(value: unknown, path = ""): Map<string, string> {
    const found = new Map<string, string>();
    if (value !== null && typeof value === "object") {
        for (const [key, item] of Array.isArray(value)
            ? value.map((item, index) => [String(index), item] as const)
            : Object.entries(value)) {
            const itemPath = Array.isArray(value) ? `${path}[${key}]` : path === "" ? key : `${path}.${key}`;
            leaves(item, itemPath).forEach((leaf, leafPath) => found.set(leafPath, leaf));
        }
    } else {
        found.set(path, JSON.stringify(value));
    }
    return found;
}

/** The input paths (list indexes left out) whose values differ between two declarations of a resource, minus those it ignores. */
function changedInputs(before: RecordedResource, after: RecordedResource): string[] {
    const [old, now] = [leaves(before.inputs), leaves(after.inputs)];
    const paths = [...new Set([...old.keys(), ...now.keys()])].filter((path) => old.get(path) !== now.get(path));
    const unindexed = [...new Set(paths.map((path) => path.replace(/\[\d+\]/g, "")))];
    return unindexed.filter((path) => !after.ignoreChanges.some((ignored) => path === ignored || path.startsWith(`${ignored}.`))).sort();
}

/** The inputs of the stack's stateful resources that a config change alters and that would replace them. */
async function replacingChanges(config: Record<string, string>, change: Record<string, string>): Promise<string[]> {
    const stateful = (resources: readonly RecordedResource[]) =>
        resources.filter((resource) => REPLACING_INPUTS[resource.type] !== undefined);
    const before = stateful(await declaredByProgram(config));
    const after = stateful(await declaredByProgram({ ...config, ...change }));
    return after.flatMap((resource) => {
        const previous = before.find((candidate) => candidate.type === resource.type && candidate.name === resource.name);
        const changed = previous === undefined ? ["(a new resource)"] : changedInputs(previous, resource);
        return changed
            .filter(
                (path) =>
                    path === "(a new resource)" ||
                    REPLACING_INPUTS[resource.type].some((input) => path === input || path.startsWith(`${input}.`)),
            )
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
