import { expect } from "chai";
import { installMocks, type RecordedResource } from "../../support/pulumiMocks";
import { ensureAwsModels, loadModel } from "../../support/awsApiModels";
import { declaredByProgram, HA_TOPOLOGY_CONFIG, SINGLE_TOPOLOGY_CONFIGS } from "../program/declared";
import { changedInputs, changeOf, RESOURCE_CHANGES } from "./resourceChanges";

/** What `pulumi up` asks of AWS when the stack's config changes: a line a changed resource, `<name> <input>: <calls>`. */
async function callsFor(config: Record<string, string>, change: Record<string, string>): Promise<string[]> {
    const aws = (resources: readonly RecordedResource[]) => resources.filter((resource) => resource.type.startsWith("aws:"));
    const before = aws(await declaredByProgram(config));
    const after = aws(await declaredByProgram({ ...config, ...change }));
    const same = (a: RecordedResource) => (b: RecordedResource) => a.type === b.type && a.name === b.name;
    const created = after.filter((resource) => !before.some(same(resource))).map((resource) => `${resource.name}: created`);
    const deleted = before.filter((resource) => !after.some(same(resource))).map((resource) => `${resource.name}: deleted`);
    const changed = after.flatMap((resource) => {
        const previous = before.find(same(resource));
        return previous === undefined
            ? []
            : changedInputs(previous, resource).map((path) => {
                  const change = changeOf(resource.type, path);
                  return `${resource.name} ${path}: ${typeof change === "string" ? change : change.join(", ") || "nothing sent"}`;
              });
    });
    return [...changed, ...created, ...deleted];
}

describe("changeOf", () => {
    it("replaces a resource for an input the provider marks ForceNew, at any depth below it", () => {
        expect(changeOf("aws:sns/topicSubscription:TopicSubscription", "endpoint")).to.equal("replace");
        expect(changeOf("aws:ec2/instance:Instance", "rootBlockDevice.encrypted")).to.equal("replace");
    });

    it("names the calls of the most specific input that covers the change", () => {
        expect(changeOf("aws:ec2/instance:Instance", "rootBlockDevice.volumeSize")).to.deep.equal(["ModifyVolume"]);
        expect(changeOf("aws:rds/instance:Instance", "instanceClass")).to.deep.equal(["ModifyDBInstance"]);
    });

    it("says when it has no fact for an input or a type, so that a new one is looked up in the provider", () => {
        expect(changeOf("aws:ec2/instance:Instance", "userData")).to.equal("unmodelled");
        expect(changeOf("aws:ec2/eip:Eip", "instance")).to.equal("unmodelled");
    });
});

describe("the calls AWS gets for the config changes users make", function () {
    this.timeout(180_000);

    before(installMocks);

    it("names only operations that AWS's API models have, for each resource type's updates", () => {
        const dir = ensureAwsModels();
        const missing = Object.entries(RESOURCE_CHANGES).flatMap(([type, facts]) => {
            const operations = loadModel(dir, facts.service).operations;
            return Object.values(facts.updates)
                .flat()
                .filter((operation) => operations[operation] === undefined)
                .map((operation) => `${type}: ${operation}`);
        });
        expect(missing).to.deep.equal([]);
    });

    const single = SINGLE_TOPOLOGY_CONFIGS.everything;
    const fleet = HA_TOPOLOGY_CONFIG;
    const NEW_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMk9ym+6rENYODf+mc9ykTLmXS4Hoo9iOD8fOORXLueR new@laptop";
    const cases: [string, Record<string, string>, Record<string, string>, string[]][] = [
        [
            "updates one server's type while it is stopped",
            single,
            { "webstack:instanceType": "t3.small" },
            ["webstack-instance instanceType: StopInstances, ModifyInstanceAttribute, StartInstances"],
        ],
        [
            "grows one server's disk in place",
            single,
            { "webstack:rootVolumeSizeGiB": "32" },
            ["webstack-instance rootBlockDevice.volumeSize: ModifyVolume"],
        ],
        [
            "upserts both records for another dnsTtl",
            single,
            { "webstack:dnsTtl": "60" },
            ["webstack-apex-record ttl: ChangeResourceRecordSets", "webstack-www-record ttl: ChangeResourceRecordSets"],
        ],
        [
            "authorizes the new SSH block and revokes the old one",
            single,
            { "webstack:sshAllowedCidrs": '["198.51.100.0/24"]' },
            ["webstack-sg ingress.cidrBlocks: AuthorizeSecurityGroupIngress, RevokeSecurityGroupIngress"],
        ],
        [
            "updates the snapshot policy for another dailySnapshots",
            single,
            { "webstack:dailySnapshots": "3" },
            ["webstack-snapshots policyDetails.schedules.retainRule.count: UpdateLifecyclePolicy"],
        ],
        [
            "puts the backup bucket's lifecycle again for another backupRetentionDays",
            single,
            { "webstack:backupRetentionDays": "30" },
            [
                "webstack-backups-lifecycle rules.expiration.days: PutBucketLifecycleConfiguration",
                "webstack-backups-lifecycle rules.noncurrentVersionExpiration.noncurrentDays: PutBucketLifecycleConfiguration",
            ],
        ],
        [
            "replaces both email subscriptions for another alertEmail, which the new address confirms again",
            single,
            { "webstack:alertEmail": "oncall@example.com" },
            ["webstack-alerts-email endpoint: replace", "webstack-alerts-us-east-1-email endpoint: replace"],
        ],
        [
            "replaces the key pair for a new SSH key, and leaves the server's key name alone (ignoreChanges)",
            single,
            { "webstack:sshPublicKey": NEW_KEY },
            ["webstack-key publicKey: replace"],
        ],
        [
            "makes a new launch template version for the fleet's instanceType",
            fleet,
            { "webstack:instanceType": "t3.small" },
            ["webstack-app instanceType: CreateLaunchTemplateVersion, ModifyLaunchTemplate"],
        ],
        [
            "updates the group for other minAppServers and maxAppServers",
            fleet,
            { "webstack:minAppServers": "3", "webstack:maxAppServers": "6" },
            [
                "webstack-app maxSize: UpdateAutoScalingGroup",
                "webstack-app minElbCapacity: nothing sent",
                "webstack-app minSize: UpdateAutoScalingGroup",
            ],
        ],
        [
            "modifies the database for another databaseInstanceClass",
            fleet,
            { "webstack:databaseInstanceClass": "db.t4g.small" },
            ["webstack-db instanceClass: ModifyDBInstance"],
        ],
        [
            "modifies the database for another databaseBackupRetentionDays",
            fleet,
            { "webstack:databaseBackupRetentionDays": "14" },
            ["webstack-db backupRetentionPeriod: ModifyDBInstance"],
        ],
        [
            "replaces the fleet's email subscriptions for another alertEmail",
            fleet,
            { "webstack:alertEmail": "oncall@example.com" },
            ["webstack-alerts-email endpoint: replace", "webstack-alerts-us-east-1-email endpoint: replace"],
        ],
    ];
    for (const [what, config, change, calls] of cases) {
        it(what, async () => {
            expect(await callsFor(config, change)).to.deep.equal(calls);
        });
    }
});
