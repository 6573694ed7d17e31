import { expect } from "chai";
import { ensureAwsModels, loadModel } from "../../support/awsApiModels";
import { checkInputs, documentedNameProblems, generatedName } from "./modelCheck";
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

    it("is in lower case for an S3 bucket, which pulumi-aws lowers", () => {
        expect(generatedName("Shop-plan", "aws:s3/bucket:Bucket")).to.match(/^shop-plan-[0-9a-f]{7}$/);
    });
});

describe("documentedNameProblems", () => {
    const documentedOf = (type: string) => {
        const documented = RESOURCE_OPERATIONS[type].autonamed?.documented;
        if (documented === undefined) {
            throw new Error(`${type} has no documented name`);
        }
        return (name: string) => documentedNameProblems(documented, name);
    };

    it("refuses a load balancer name over 32 characters or with a character other than a letter, digit or hyphen", () => {
        const problems = documentedOf("aws:lb/loadBalancer:LoadBalancer");
        expect(problems("webstack-lb-3f9c2e1")).to.deep.equal([]);
        expect(problems("shop_prod-lb-3f9c2e1")).to.have.length(1);
        expect(problems(`${"a".repeat(25)}-3f9c2e1`)[0]).to.match(/is 33 characters/);
    });

    it("refuses an RDS identifier that starts with a digit or holds two hyphens in a row", () => {
        const problems = documentedOf("aws:rds/instance:Instance");
        expect(problems("webstack-db-3f9c2e1")).to.deep.equal([]);
        expect(problems("1shop-db-3f9c2e1")).to.have.length(1);
        expect(problems("shop--db-3f9c2e1")).to.have.length(1);
    });

    it("refuses a bucket name that starts xn--, looks like an IP address or holds two dots in a row", () => {
        const problems = documentedOf("aws:s3/bucket:Bucket");
        expect(problems("webstack-plan-3f9c2e1")).to.deep.equal([]);
        expect(problems("xn--shop-plan-3f9c2e1")).to.have.length(1);
        expect(problems("192.168.5.4")).to.have.length(1);
        expect(problems("shop..plan")).to.have.length(1);
    });

    it("refuses a secret name that ends in a hyphen and six characters, which reads as a partial ARN", () => {
        const problems = documentedOf("aws:secretsmanager/secret:Secret");
        expect(problems("webstack-db-app-3f9c2e1")).to.deep.equal([]);
        expect(problems("webstack-db-app-3f9c2e")).to.have.length(1);
    });
});
