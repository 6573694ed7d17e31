import { expect } from "chai";
import { ensureAwsModels, loadModel } from "../../support/awsApiModels";
import { checkInputs, generatedName } from "./modelCheck";
import { RESOURCE_OPERATIONS } from "./resourceOperations";

describe("checkInputs", function () {
    this.timeout(120_000);

    let dir: string;
    before(() => {
        dir = ensureAwsModels();
    });

    const check = (type: string, inputs: Record<string, unknown>) => {
        const mapping = RESOURCE_OPERATIONS[type];
        return checkInputs(loadModel(dir, mapping.service), mapping, inputs);
    };

    it("finds the colon and the comma that DLM refuses in a policy's description and a schedule's name", () => {
        const { violations } = check("aws:dlm/lifecyclePolicy:LifecyclePolicy", {
            description: "webstack webstack: daily root volume snapshots",
            executionRoleArn: "arn:aws:iam::123456789012:role/snapshots",
            state: "ENABLED",
            policyDetails: {
                resourceTypes: ["VOLUME"],
                schedules: [{ name: "daily, 7 kept", retainRule: { count: 7 } }],
                targetTags: { "webstack-snapshots": "dev" },
            },
        });
        expect(violations.map((violation) => violation.path)).to.deep.equal(["description", "policyDetails.schedules.name"]);
        expect(violations[0].problem).to.match(/does not match the pattern/);
    });

    it("finds a value outside an enum and a number outside its range, naming the input's path", () => {
        expect(check("aws:lb/listener:Listener", { protocol: "HTTPX", port: 80 }).violations).to.deep.equal([
            { path: "protocol", problem: '"HTTPX" is not one of HTTP, HTTPS, TCP, TLS, UDP, TCP_UDP, GENEVE, QUIC, TCP_QUIC' },
        ]);
        const refresh = check("aws:autoscaling/group:Group", {
            minSize: 1,
            maxSize: 2,
            instanceRefresh: { strategy: "Rolling", preferences: { maxHealthyPercentage: 250 } },
        });
        expect(refresh.violations).to.deep.equal([
            { path: "instanceRefresh.preferences.maxHealthyPercentage", problem: "250 is outside 100 to 200" },
        ]);
    });

    it("checks tags given as a map against the service's Tag key and value", () => {
        const { violations } = check("aws:iam/role:Role", { assumeRolePolicy: "{}", tags: { ["k".repeat(129)]: "v" } });
        expect(violations.map((violation) => violation.path)).to.deep.equal(["tags key"]);
    });

    it("reports an input that reaches no member of the operation, so that a renamed or new input is mapped on purpose", () => {
        expect(check("aws:sns/topic:Topic", { name: "alerts", deliveryPolicy: "{}", madeUp: 1 }).unmapped).to.deep.equal([
            "deliveryPolicy",
            "madeUp",
        ]);
    });

    it("reports a required member that no input carries, unless Pulumi names it or the mapping says who fills it in", () => {
        expect(check("aws:iam/role:Role", { description: "no trust policy" }).missing).to.deep.equal(["AssumeRolePolicyDocument"]);
        expect(check("aws:ec2/instance:Instance", { instanceType: "t3.micro" }).missing).to.deep.equal([]);
        expect(check("aws:lb/targetGroup:TargetGroup", { port: 80, healthCheck: { path: "/health" } }).missing).to.deep.equal([]);
    });
});

describe("generatedName", () => {
    it("is the resource's name, a dash and seven hexadecimal characters, as Pulumi's autonaming makes it", () => {
        expect(generatedName("webstack-app-tg")).to.match(/^webstack-app-tg-[0-9a-f]{7}$/);
    });
});
