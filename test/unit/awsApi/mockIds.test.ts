import { expect } from "chai";
import {
    installMocks,
    MOCK_AMI_ID,
    MOCK_DEFAULT_SUBNETS,
    MOCK_RUNNING_INSTANCE_ID,
    MOCK_VPC_ID,
    MOCK_ZONE_ID,
    mockedAnswers,
    mockResource,
} from "../../support/pulumiMocks";
import { declaredByProgram, HA_TOPOLOGY_CONFIG, SINGLE_TOPOLOGY_CONFIGS } from "../program/declared";

/**
 * The ids, ARNs and generated names the mocks give AWS resources, against the shapes AWS gives them:
 * the program's tests and fixtures read them, and a placeholder (`<name>-id`, an ARN without its
 * random part) would hide code that cuts or matches them wrongly.
 */

const HEX17 = "[0-9a-f]{17}";
const HEX16 = "[0-9a-f]{16}";
const UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";
const REGION = "[a-z]{2}(?:-[a-z]+)+-\\d";
const ACCOUNT = "\\d{12}";
/** The seven hexadecimal characters Pulumi's autonaming adds to a resource's name. */
const GENERATED = "[A-Za-z0-9-]+-[0-9a-f]{7}";
/** An IAM role's or instance profile's name: up to 64 of letters, digits and +=,.@_- (IAM's RoleName). */
const IAM_NAME = "[\\w+=,.@-]{1,64}";
/** A load balancer's or target group's name: up to 32 letters, digits and hyphens, none first or last (ELB's CreateLoadBalancer). */
const ELB_NAME = "[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?";
/** A bucket's name: 3 to 63 lower-case letters, digits, dots and hyphens, a letter or digit first and last (S3's bucket naming rules). */
const BUCKET = "[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]";
/** An RDS identifier or group name: a letter first, then letters, digits and single hyphens, none last. */
const RDS_NAME = "[a-z](?:-?[a-z0-9])*";

const whole = (pattern: string) => new RegExp(`^${pattern}$`);
/** An ARN of this account, in a region unless the service is global (IAM, S3, Route53). */
const arn = (service: string, resource: string, regional = true) => `arn:aws:${service}:${regional ? REGION : ""}:${ACCOUNT}:${resource}`;
const ELB_ARN = (resource: string) => arn("elasticloadbalancing", resource);
const BUCKET_ID = { id: BUCKET };

/**
 * The shape of each AWS resource's id, and of the outputs that carry ids, ARNs and generated names
 * (by path; a list's item by its index), as AWS's API references and the provider's documentation
 * give them: EC2's resource ids ("i-" and 17 hexadecimal characters), Route53's hosted zone ids and
 * health check UUIDs, the ARN formats of each service's "Actions, resources, and condition keys" page.
 */
const SHAPES: Readonly<Record<string, Readonly<Record<string, string>>>> = {
    "aws:acm/certificate:Certificate": { id: arn("acm", `certificate/${UUID}`), arn: arn("acm", `certificate/${UUID}`) },
    "aws:acm/certificateValidation:CertificateValidation": { id: arn("acm", `certificate/${UUID}`) },
    "aws:autoscaling/group:Group": {
        id: GENERATED,
        name: GENERATED,
        arn: arn("autoscaling", `autoScalingGroup:${UUID}:autoScalingGroupName/${GENERATED}`),
    },
    "aws:autoscaling/policy:Policy": {
        id: GENERATED,
        arn: arn("autoscaling", `scalingPolicy:${UUID}:autoScalingGroupName/${GENERATED}:policyName/${GENERATED}`),
    },
    "aws:cloudwatch/metricAlarm:MetricAlarm": { id: GENERATED, arn: arn("cloudwatch", `alarm:${GENERATED}`) },
    "aws:dlm/lifecyclePolicy:LifecyclePolicy": { id: `policy-${HEX17}`, arn: arn("dlm", `policy/policy-${HEX17}`) },
    "aws:ec2/eip:Eip": { id: `eipalloc-${HEX17}`, allocationId: `eipalloc-${HEX17}` },
    "aws:ec2/instance:Instance": {
        id: `i-${HEX17}`,
        arn: arn("ec2", `instance/i-${HEX17}`),
        primaryNetworkInterfaceId: `eni-${HEX17}`,
        "rootBlockDevice.volumeId": `vol-${HEX17}`,
    },
    // The provider names the resource after its instance.
    "aws:ec2transitgateway/instanceState:InstanceState": { id: `i-${HEX17}` },
    "aws:ec2/keyPair:KeyPair": { id: "[\\x20-\\x7e]{1,255}", keyPairId: `key-${HEX17}`, arn: arn("ec2", "key-pair/[\\x20-\\x7e]{1,255}") },
    "aws:ec2/launchTemplate:LaunchTemplate": { id: `lt-${HEX17}`, arn: arn("ec2", `launch-template/lt-${HEX17}`) },
    "aws:ec2/securityGroup:SecurityGroup": { id: `sg-${HEX17}`, arn: arn("ec2", `security-group/sg-${HEX17}`) },
    "aws:iam/instanceProfile:InstanceProfile": { id: IAM_NAME, arn: arn("iam", `instance-profile/${IAM_NAME}`, false) },
    "aws:iam/role:Role": { id: IAM_NAME, arn: arn("iam", `role/${IAM_NAME}`, false), uniqueId: "AROA[0-9A-Z]{17}" },
    "aws:iam/rolePolicy:RolePolicy": { id: `${IAM_NAME}:${IAM_NAME}` },
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": { id: `${IAM_NAME}-\\d{26}` },
    "aws:lb/listener:Listener": { id: ELB_ARN(`listener/app/${ELB_NAME}/${HEX16}/${HEX16}`) },
    "aws:lb/listenerRule:ListenerRule": { id: ELB_ARN(`listener-rule/app/${ELB_NAME}/${HEX16}/${HEX16}/${HEX16}`) },
    "aws:lb/loadBalancer:LoadBalancer": {
        id: ELB_ARN(`loadbalancer/app/${ELB_NAME}/${HEX16}`),
        arn: ELB_ARN(`loadbalancer/app/${ELB_NAME}/${HEX16}`),
        arnSuffix: `app/${ELB_NAME}/${HEX16}`,
        name: ELB_NAME,
        dnsName: `${ELB_NAME}-\\d{1,10}\\.${REGION}\\.elb\\.amazonaws\\.com`,
        zoneId: "Z[0-9A-Z]{13,21}",
    },
    "aws:lb/targetGroup:TargetGroup": {
        id: ELB_ARN(`targetgroup/${ELB_NAME}/${HEX16}`),
        arn: ELB_ARN(`targetgroup/${ELB_NAME}/${HEX16}`),
        arnSuffix: `targetgroup/${ELB_NAME}/${HEX16}`,
    },
    "aws:rds/instance:Instance": {
        id: "db-[0-9A-Z]{26}",
        resourceId: "db-[0-9A-Z]{26}",
        identifier: RDS_NAME,
        arn: arn("rds", `db:${RDS_NAME}`),
        address: `${RDS_NAME}\\.[0-9a-z]{12}\\.${REGION}\\.rds\\.amazonaws\\.com`,
        "masterUserSecrets.0.secretArn": arn("secretsmanager", `secret:rds!db-${UUID}-[A-Za-z0-9]{6}`),
    },
    "aws:rds/parameterGroup:ParameterGroup": { id: RDS_NAME, arn: arn("rds", `pg:${RDS_NAME}`) },
    "aws:rds/subnetGroup:SubnetGroup": { id: RDS_NAME, arn: arn("rds", `subgrp:${RDS_NAME}`) },
    "aws:route53/healthCheck:HealthCheck": { id: UUID },
    "aws:route53/record:Record": { id: "Z[0-9A-Z]{13,21}_[a-z0-9._-]+_(?:A|AAAA|CNAME|TXT|CAA|MX)" },
    "aws:s3/bucket:Bucket": { id: BUCKET, bucket: BUCKET, arn: `arn:aws:s3:::${BUCKET}` },
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": BUCKET_ID,
    "aws:s3/bucketObjectv2:BucketObjectv2": { id: "[\\x20-\\x7e]{1,1024}" },
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": BUCKET_ID,
    "aws:s3/bucketPolicy:BucketPolicy": BUCKET_ID,
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": BUCKET_ID,
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": BUCKET_ID,
    "aws:s3/bucketVersioning:BucketVersioning": BUCKET_ID,
    "aws:secretsmanager/secret:Secret": {
        id: arn("secretsmanager", `secret:${GENERATED}-[A-Za-z0-9]{6}`),
        arn: arn("secretsmanager", `secret:${GENERATED}-[A-Za-z0-9]{6}`),
    },
    "aws:secretsmanager/secretVersion:SecretVersion": { id: `${arn("secretsmanager", `secret:${GENERATED}-[A-Za-z0-9]{6}`)}\\|${UUID}` },
    "aws:sns/topic:Topic": { id: arn("sns", GENERATED), arn: arn("sns", GENERATED) },
    "aws:sns/topicSubscription:TopicSubscription": { id: arn("sns", `${GENERATED}:${UUID}`) },
};

/** The value at a path of dotted keys and list indexes. */
function at(state: Record<string, unknown>, path: string): unknown {
    return path.split(".").reduce<unknown>((value, key) => (value as Record<string, unknown> | undefined)?.[key], state);
}

/** What is wrong with one answer of the mocks against its type's shapes. */
function shapeProblems(answer: { type: string; name: string; id: string; state: Record<string, unknown> }): string[] {
    const shapes = SHAPES[answer.type];
    if (shapes === undefined) {
        return [`${answer.type}: no shape for its id; add one to SHAPES`];
    }
    return Object.entries(shapes).flatMap(([path, pattern]) => {
        const value = path === "id" ? answer.id : at(answer.state, path);
        return typeof value === "string" && whole(pattern).test(value)
            ? []
            : [`${answer.name} ${path}: ${JSON.stringify(value)} is not ${pattern}`];
    });
}

describe("the mocks' AWS ids and ARNs", function () {
    this.timeout(120_000);

    const answers: { type: string; name: string; id: string; state: Record<string, unknown> }[] = [];

    before(async () => {
        await installMocks();
        for (const config of [...Object.values(SINGLE_TOPOLOGY_CONFIGS), HA_TOPOLOGY_CONFIG]) {
            await declaredByProgram(config);
            answers.push(...mockedAnswers().filter((answer) => answer.type.startsWith("aws:")));
        }
    });

    it("are in the shapes AWS gives them, for every AWS resource the program declares in either topology", () => {
        expect(answers.length).to.be.greaterThan(50);
        expect([...new Set(answers.flatMap(shapeProblems))]).to.deep.equal([]);
    });

    it("give each resource an id of its own", () => {
        const byId = new Map<string, string[]>();
        for (const answer of answers) {
            byId.set(answer.id, [...new Set([...(byId.get(answer.id) ?? []), `${answer.type} ${answer.name}`])]);
        }
        // An S3 bucket's settings share their bucket's id, a certificate's validation its certificate's, and an instance's state its instance's.
        const sharing = (owner: string) =>
            owner.startsWith("aws:s3/bucket") ||
            owner.startsWith("aws:acm/certificateValidation") ||
            owner.startsWith("aws:ec2transitgateway/instanceState");
        const shared = [...byId.values()].filter((owners) => owners.filter((owner) => !sharing(owner)).length > 1);
        expect(shared).to.deep.equal([]);
    });

    it("stay the same from run to run", () => {
        const first = mockResource("aws:lb/loadBalancer:LoadBalancer", "webstack-lb", {});
        expect(mockResource("aws:lb/loadBalancer:LoadBalancer", "webstack-lb", {})).to.deep.equal(first);
        expect(mockResource("aws:lb/loadBalancer:LoadBalancer", "other-lb", {}).id).not.to.equal(first.id);
    });

    it("fail the check when a mock gives a placeholder instead", () => {
        const placeholders = [
            { type: "aws:ec2/instance:Instance", name: "web", id: "web-id", state: {} },
            { type: "aws:ec2/eip:Eip", name: "web-eip", id: "eipalloc-web-eip", state: { allocationId: "eipalloc-web-eip" } },
            {
                type: "aws:s3/bucket:Bucket",
                name: "backups",
                id: "backups-bucket",
                state: { bucket: "Backups_Bucket", arn: "arn:aws:s3:::Backups_Bucket" },
            },
            {
                type: "aws:lb/targetGroup:TargetGroup",
                name: "app-tg",
                id: "arn:aws:elasticloadbalancing:eu-central-1:123456789012:targetgroup/app-tg",
                state: {},
            },
            { type: "aws:route53/healthCheck:HealthCheck", name: "check", id: "check-id", state: {} },
            { type: "aws:ec2/volume:Volume", name: "data", id: "vol-0123456789abcdef0", state: {} },
        ];
        expect(placeholders.map((placeholder) => shapeProblems(placeholder).length > 0)).to.deep.equal(placeholders.map(() => true));
    });

    it("answer the data sources with ids in AWS's shapes", () => {
        expect(MOCK_AMI_ID).to.match(whole(`ami-${HEX17}`));
        expect(MOCK_VPC_ID).to.match(whole(`vpc-${HEX17}`));
        expect(MOCK_RUNNING_INSTANCE_ID).to.match(whole(`i-${HEX17}`));
        expect(Object.keys(MOCK_DEFAULT_SUBNETS).filter((subnet) => !whole(`subnet-${HEX17}`).test(subnet))).to.deep.equal([]);
        expect(MOCK_ZONE_ID).to.match(whole("Z[0-9A-Z]{13,21}"));
        expect(mockResource("aws:route53/zone:Zone", "example").id).to.match(whole("Z[0-9A-Z]{13,21}"));
    });
});
