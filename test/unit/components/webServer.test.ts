import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import {
    ALARM_TYPE,
    alertResourceNames,
    callsOf,
    componentUnderMocks,
    installMocks,
    MOCK_AMI_ID,
    MOCK_HOST_PUBLIC_KEY,
    MOCK_PAUSED_POSITION,
    MOCK_REPLICATION_KEY,
    mockCurrentPublicIp,
    mockExistingGenerations,
    MOCK_PUBLIC_IP,
    MOCK_RUNNING_INSTANCE_ID,
    mockIdOf,
    mockImageArchitectures,
    mockOutputOf,
    mockRunningInstance,
    MOCK_VPC_ID,
    MOCK_ZONE_ID,
    onlyResourceOfType,
    resetRecords,
    resourceNamed,
    resources,
    resourcesOfType,
    settle,
    valueOf,
} from "../../support/pulumiMocks";
import { buildPlan } from "../../../provisioning";
import { publicKeyMaterial } from "../../../provisioning/formats";
import { sshKeyPair } from "../../support/sshKeys";
import { stepHoldsSecrets, stepScript, type RunStep } from "../../../provisioning/plan";
import { scriptSourcingLibrary } from "../../../components/shippedScripts";
import { identityTrigger } from "../../../components/remoteProvisioner";
import { scriptRunBy, scriptRunByStep, shippedScriptsDirectory } from "../../support/shippedScripts";
import { providerArgsForRegion } from "../../../components/alerts";
import { type WebServer as WebServerClass, type WebServerArgs, type WebServerProvisioning } from "../../../components/webServer";
import { architectureChangeProblem, hostKeyProblem, KEPT_SERVER_IGNORED_INPUTS } from "../../../components/server/instance";
import { MOVE_COMMANDS } from "../../../provisioning/files/replication";
import { renderHostKeyUserData } from "../../../components/server/hostKey";
import { parse } from "yaml";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { DLM_TEXT, snapshotPolicyDescription, snapshotPolicyDetails } from "../../../components/server/snapshots";
import { authorizedKeys } from "../../../components/sshKeys";

const SSH_PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHx5c2FuZGJveGtleWZvcnRlc3RzAAAAAAAAAAAAAAAA dev@laptop";

const PROVISIONING: WebServerProvisioning = {
    release: { id: "0123456789ab", artifactPath: __filename, healthPath: "/health" },
    sshPrivateKey: pulumi.secret("PRIVATE KEY TEXT"),
};
/** The same server serving HTTPS. */
const TLS_PROVISIONING: WebServerProvisioning = {
    ...PROVISIONING,
    tls: { email: "ops@example.com", directoryUrl: "https://acme.example.net/dir" },
};
/** The plan WebServer applies: the provisioning's, keeping the login user's keys. */
const serverPlan = (provisioning: WebServerProvisioning) => buildPlan({ ...provisioning, sshAccess: { user: "admin" } });
const PLAN = serverPlan(PROVISIONING);

const REMOTE_TYPES = ["command:remote:Command", "command:remote:CopyToRemote"];

describe("WebServer under Pulumi mocks", () => {
    let WebServer: typeof WebServerClass;

    before(async () => {
        await installMocks();
        ({ WebServer } = await import("../../../components/webServer"));
    });

    const build = componentUnderMocks(
        "web",
        (name, overrides: Partial<WebServerArgs>) =>
            new WebServer(name, {
                domain: "example.com",
                sshPublicKey: SSH_PUBLIC_KEY,
                sshAllowedCidrs: ["203.0.113.7/32", "2001:db8::/64"],
                provisioning: PROVISIONING,
                ...overrides,
            }),
        (server) => server.sshCommand,
    );

    /** What the mocks give the server `name`'s resources: ids, ARNs and the names Pulumi generates. */
    const mocked = {
        groupId: (name: string, suffix: string) => mockIdOf("aws:ec2/securityGroup:SecurityGroup", `${name}-${suffix}`),
        instanceId: (name: string) => mockIdOf("aws:ec2/instance:Instance", `${name}-instance`),
        role: (name: string, suffix: string, output: "name" | "arn") => mockOutputOf("aws:iam/role:Role", `${name}-${suffix}`, output),
        backupBucket: (name: string) => mockOutputOf("aws:s3/bucket:Bucket", `${name}-backups`, "bucket"),
        healthCheckId: (name: string) => mockIdOf("aws:route53/healthCheck:HealthCheck", `${name}-health-check`),
        /** The ARN of the topic named `topic`: the site-down alarm's lives in us-east-1, with Route53's metrics. */
        topicArn: (topic: string) =>
            mockOutputOf("aws:sns/topic:Topic", topic, "arn", topic.endsWith("-us-east-1") ? "us-east-1" : undefined),
    };

    describe("security group", () => {
        it("lets in exactly HTTP and HTTPS from anywhere and SSH from the allowed blocks", async () => {
            const { name } = await build();
            const group = resourceNamed("aws:ec2/securityGroup:SecurityGroup", `${name}-sg`);
            const ingress = (group.inputs.ingress as Record<string, unknown>[]).map((rule) => ({
                protocol: rule.protocol,
                fromPort: rule.fromPort,
                toPort: rule.toPort,
                cidrBlocks: rule.cidrBlocks,
                ipv6CidrBlocks: rule.ipv6CidrBlocks,
            }));
            expect(ingress).to.deep.equal([
                { protocol: "tcp", fromPort: 80, toPort: 80, cidrBlocks: ["0.0.0.0/0"], ipv6CidrBlocks: ["::/0"] },
                { protocol: "tcp", fromPort: 443, toPort: 443, cidrBlocks: ["0.0.0.0/0"], ipv6CidrBlocks: ["::/0"] },
                { protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["203.0.113.7/32"], ipv6CidrBlocks: ["2001:db8::/64"] },
            ]);
        });

        it("never opens the database port or any app port", async () => {
            const { name } = await build();
            const group = resourceNamed("aws:ec2/securityGroup:SecurityGroup", `${name}-sg`);
            for (const rule of group.inputs.ingress as { fromPort: number; toPort: number }[]) {
                for (const port of [3306, 3000, 3001, 3002, 3008]) {
                    expect(port >= rule.fromPort && port <= rule.toPort, `port ${port} open`).to.equal(false);
                }
            }
        });

        it("has a deploy-access group that Pulumi creates empty and whose ingress it leaves to the deploy run", async () => {
            const { component: server, name } = await build();
            const group = resourceNamed("aws:ec2/securityGroup:SecurityGroup", `${name}-deploy-access`);
            expect(group.inputs.ingress).to.equal(undefined);
            expect(group.inputs.egress).to.deep.equal([]);
            expect(await valueOf(server.deployAccessGroupId)).to.equal(mocked.groupId(name, "deploy-access"));
        });

        it("allows all outbound traffic so apt and ACME work", async () => {
            const { name } = await build();
            const group = resourceNamed("aws:ec2/securityGroup:SecurityGroup", `${name}-sg`);
            expect(group.inputs.egress).to.have.length(1);
            expect(group.inputs.egress).to.have.nested.property("[0].protocol", "-1");
            expect(group.inputs.egress).to.have.deep.nested.property("[0].cidrBlocks", ["0.0.0.0/0"]);
        });
    });

    describe("instance", () => {
        it("boots the newest official Debian 13 amd64 image on a t3.micro by default", async () => {
            await build();
            const [lookup] = callsOf("aws:ec2/getAmi:getAmi");
            expect(lookup.owners).to.deep.equal(["136693071363"]);
            expect(lookup.mostRecent).to.equal(true);
            expect(lookup.filters).to.deep.include({ name: "name", values: ["debian-13-amd64-*"] });
            const instance = onlyResourceOfType("aws:ec2/instance:Instance");
            expect(instance.inputs.ami).to.equal(MOCK_AMI_ID);
            expect(instance.inputs.instanceType).to.equal("t3.micro");
        });

        it("looks up the arm64 image for a Graviton instance type", async () => {
            await build({ instanceType: "t4g.small" });
            const [lookup] = callsOf("aws:ec2/getAmi:getAmi");
            expect(lookup.filters).to.deep.include({ name: "name", values: ["debian-13-arm64-*"] });
            expect(lookup.filters).to.deep.include({ name: "architecture", values: ["arm64"] });
        });

        it("launches in the default VPC unless given a subnet, whose VPC then gets the security group", async () => {
            let { name } = await build();
            expect(callsOf("aws:ec2/getSubnet:getSubnet")).to.have.length(0);
            expect(onlyResourceOfType("aws:ec2/instance:Instance").inputs.subnetId).to.equal(undefined);
            expect(resourceNamed("aws:ec2/securityGroup:SecurityGroup", `${name}-sg`).inputs.vpcId).to.equal(undefined);

            ({ name } = await build({ subnetId: "subnet-0123456789abcdef0" }));
            expect(onlyResourceOfType("aws:ec2/instance:Instance").inputs.subnetId).to.equal("subnet-0123456789abcdef0");
            expect(resourceNamed("aws:ec2/securityGroup:SecurityGroup", `${name}-sg`).inputs.vpcId).to.equal(MOCK_VPC_ID);
        });

        it("boots a given AMI once EC2, asked about that image alone, says it is of the instance type's architecture", async () => {
            mockImageArchitectures["ami-0123456789abcdef0"] = "arm64";
            try {
                await build({ amiId: "ami-0123456789abcdef0", instanceType: "t4g.small" });
                expect(callsOf("aws:ec2/getAmi:getAmi").map((lookup) => lookup.filters)).to.deep.equal([
                    [{ name: "image-id", values: ["ami-0123456789abcdef0"] }],
                ]);
                expect(onlyResourceOfType("aws:ec2/instance:Instance").inputs.ami).to.equal("ami-0123456789abcdef0");
            } finally {
                delete mockImageArchitectures["ami-0123456789abcdef0"];
            }
        });

        it("requires IMDSv2, encrypts a gp3 root volume and turns on automatic recovery", async () => {
            await build({ rootVolumeSizeGiB: 30 });
            const instance = onlyResourceOfType("aws:ec2/instance:Instance");
            expect(instance.inputs.metadataOptions).to.include({ httpTokens: "required", httpEndpoint: "enabled" });
            expect(instance.inputs.rootBlockDevice).to.include({ volumeType: "gp3", volumeSize: 30, encrypted: true });
            expect(instance.inputs.maintenanceOptions).to.deep.equal({ autoRecovery: "default" });
        });

        it("uses the key pair made from the public key without its comment, the security group and the deploy-access group", async () => {
            const { name } = await build();
            const keyPair = onlyResourceOfType("aws:ec2/keyPair:KeyPair");
            expect(keyPair.inputs.publicKey).to.equal(publicKeyMaterial(SSH_PUBLIC_KEY));
            const instance = onlyResourceOfType("aws:ec2/instance:Instance");
            expect(instance.inputs.keyName).to.match(new RegExp(`^${name}-key-[0-9a-f]{8}$`));
            expect(instance.inputs.vpcSecurityGroupIds).to.deep.equal([mocked.groupId(name, "sg"), mocked.groupId(name, "deploy-access")]);
        });

        it("looks up the server the stack runs, by its Name and stack tags, and keeps an instance type of its architecture", async () => {
            mockRunningInstance.instanceType = "t3.small";
            try {
                const { name } = await build();
                expect(callsOf("aws:ec2/getInstances:getInstances")[0]).to.deep.include({
                    instanceTags: { Name: `${name}-instance`, stack: "dev" },
                });
                expect(callsOf("aws:ec2/getInstance:getInstance")[0]).to.deep.include({ instanceId: MOCK_RUNNING_INSTANCE_ID });
                expect(onlyResourceOfType("aws:ec2/instance:Instance").inputs.instanceType).to.equal("t3.micro");
            } finally {
                delete mockRunningInstance.instanceType;
            }
        });

        it("keeps the instance when the key pair changes: EC2 reads it at first boot only, and a new keyName would replace the server", async () => {
            await build();
            expect(onlyResourceOfType("aws:ec2/instance:Instance").ignoreChanges).to.deep.equal(["ami", "keyName", "userData"]);
            await build({ amiId: "ami-0123456789abcdef0" });
            expect(onlyResourceOfType("aws:ec2/instance:Instance").ignoreChanges).to.deep.equal(["keyName", "userData"]);
        });

        it("tags every AWS resource with Name, project and stack", async () => {
            await build();
            const untaggable = [
                "aws:route53/record:Record",
                "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
                "aws:iam/rolePolicy:RolePolicy",
                // A bucket's settings are parts of the bucket, which carries the tags.
                ...resources()
                    .map((resource) => resource.type)
                    .filter((type) => type.startsWith("aws:s3/bucket") && type !== "aws:s3/bucket:Bucket"),
            ];
            const tagged = resources().filter((resource) => resource.type.startsWith("aws:") && !untaggable.includes(resource.type));
            expect(tagged.map((resource) => resource.type)).to.have.members([
                "aws:ec2/securityGroup:SecurityGroup",
                "aws:ec2/securityGroup:SecurityGroup",
                "aws:ec2/keyPair:KeyPair",
                "aws:ec2/instance:Instance",
                "aws:ec2/eip:Eip",
                "aws:iam/role:Role",
                "aws:dlm/lifecyclePolicy:LifecyclePolicy",
                "aws:iam/role:Role",
                "aws:iam/instanceProfile:InstanceProfile",
                "aws:s3/bucket:Bucket",
            ]);
            for (const resource of tagged) {
                expect(resource.inputs.tags, resource.type).to.include({ project: "webstack", stack: "dev" });
                expect(resource.inputs.tags, resource.type)
                    .to.have.property("Name")
                    .that.matches(/^web\d+-/);
            }
        });
    });

    describe("snapshots", () => {
        it("keeps seven daily snapshots of the root volume by default, through a role only Data Lifecycle Manager can assume", async () => {
            const { name } = await build();
            const role = resourceNamed("aws:iam/role:Role", `${name}-snapshots-role`);
            expect(JSON.parse(role.inputs.assumeRolePolicy as string).Statement).to.deep.equal([
                { Effect: "Allow", Principal: { Service: "dlm.amazonaws.com" }, Action: "sts:AssumeRole" },
            ]);
            expect(onlyResourceOfType("aws:iam/rolePolicyAttachment:RolePolicyAttachment").inputs).to.deep.include({
                role: mocked.role(name, "snapshots-role", "name"),
                policyArn: "arn:aws:iam::aws:policy/service-role/AWSDataLifecycleManagerServiceRole",
            });
            const policy = onlyResourceOfType("aws:dlm/lifecyclePolicy:LifecyclePolicy");
            expect(policy.inputs.executionRoleArn).to.equal(mocked.role(name, "snapshots-role", "arn"));
            expect(policy.inputs.state).to.equal("ENABLED");
            const details = policy.inputs.policyDetails as {
                targetTags: Record<string, string>;
                schedules: { retainRule: { count: number } }[];
            };
            expect(details.schedules[0].retainRule.count).to.equal(7);
            const rootTags = (onlyResourceOfType("aws:ec2/instance:Instance").inputs.rootBlockDevice as { tags: Record<string, string> })
                .tags;
            expect(Object.entries(details.targetTags)).to.have.length(1);
            const [[tag, value]] = Object.entries(details.targetTags);
            expect(rootTags[tag], "the policy targets the root volume's tag").to.equal(value);
            expect(policy.dependsOn, "DLM checks the role's permissions when the policy is created").to.include(`${name}-snapshots-policy`);
        });

        it("creates no snapshot policy when dailySnapshots is 0", async () => {
            const { name } = await build({ dailySnapshots: 0 });
            expect(resourcesOfType("aws:dlm/lifecyclePolicy:LifecyclePolicy")).to.deep.equal([]);
            expect(resourcesOfType("aws:iam/role:Role").map((role) => role.name)).to.deep.equal([`${name}-server-role`]);
        });
    });

    describe("backups", () => {
        type Statement = { Sid: string; Effect: string; Action: string | string[]; Resource: string | string[]; Principal?: unknown };
        const statements = (policy: unknown) => (JSON.parse(policy as string) as { Statement: Statement[] }).Statement;

        it("keeps them in a versioned, encrypted bucket closed to the public, for 14 days by default, with any replaced version", async () => {
            const { name } = await build();
            const bucket = resourceNamed("aws:s3/bucket:Bucket", `${name}-backups`);
            expect(bucket.protect, "pulumi destroy stops at it until lift-protection.sh").to.equal(true);
            const settingOf = (type: string) =>
                resourcesOfType(type).find((resource) => resource.inputs.bucket === mocked.backupBucket(name));
            expect(settingOf("aws:s3/bucketVersioning:BucketVersioning")?.inputs.versioningConfiguration).to.deep.equal({
                status: "Enabled",
            });
            expect(settingOf("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")?.inputs).to.deep.include({
                blockPublicAcls: true,
                blockPublicPolicy: true,
                ignorePublicAcls: true,
                restrictPublicBuckets: true,
            });
            expect(settingOf("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")).to.not.equal(
                undefined,
            );
            const lifecycle = settingOf("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration");
            expect(lifecycle?.inputs.rules).to.deep.equal([
                {
                    id: "keep-backups-for-retention-days",
                    status: "Enabled",
                    filter: { prefix: `dev-${name}/` },
                    expiration: { days: 14 },
                    noncurrentVersionExpiration: { noncurrentDays: 14 },
                    abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
                },
            ]);
            expect(lifecycle?.dependsOn, "a rule on versions needs versioning on first").to.include(`${name}-backups-versioning`);
        });

        it("keeps them as many days as backupRetentionDays says", async () => {
            const { name } = await build({ backupRetentionDays: 90 });
            const rules = resourceNamed("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", `${name}-backups-lifecycle`)
                .inputs.rules as {
                expiration: unknown;
                noncurrentVersionExpiration: unknown;
            }[];
            expect(rules[0]).to.deep.include({ expiration: { days: 90 }, noncurrentVersionExpiration: { noncurrentDays: 90 } });
        });

        it("lets the server put and read backups under its own prefix, never delete one or change the bucket's rules", async () => {
            const { name } = await build();
            const bucketArn = `arn:aws:s3:::${mocked.backupBucket(name)}`;
            const policy = statements(resourceNamed("aws:iam/rolePolicy:RolePolicy", `${name}-server-backups-policy`).inputs.policy);
            const allowed = policy.filter((statement) => statement.Effect === "Allow" && statement.Sid !== "ReportBackupHealth");
            expect(allowed.map((statement) => statement.Resource)).to.deep.equal([`${bucketArn}/dev-${name}/*`, bucketArn]);
            expect(allowed.flatMap((statement) => statement.Action)).to.not.include.members(["s3:DeleteObject", "s3:DeleteObjectVersion"]);
            const [denied] = policy.filter((statement) => statement.Effect === "Deny");
            expect(denied.Action).to.include.members([
                "s3:DeleteObject",
                "s3:DeleteObjectVersion",
                "s3:PutLifecycleConfiguration",
                "s3:PutBucketPolicy",
                "s3:PutBucketVersioning",
            ]);
            expect(denied.Resource).to.deep.equal([bucketArn, `${bucketArn}/*`]);
        });

        it("lets the server report its backups' health to CloudWatch, which takes no resource, and nothing else outside S3", async () => {
            const { name } = await build();
            const policy = statements(resourceNamed("aws:iam/rolePolicy:RolePolicy", `${name}-server-backups-policy`).inputs.policy);
            const outsideS3 = policy.filter((statement) => [statement.Action].flat().some((action) => !action.startsWith("s3:")));
            expect(outsideS3).to.deep.equal([
                { Sid: "ReportBackupHealth", Effect: "Allow", Action: "cloudwatch:PutMetricData", Resource: "*" },
            ]);
        });

        it("refuses the same erasures to the server's role in the bucket's policy, and anything over plain HTTP", async () => {
            const { name } = await build();
            const policy = statements(resourceNamed("aws:s3/bucketPolicy:BucketPolicy", `${name}-backups-policy`).inputs.policy);
            expect(policy.map((statement) => statement.Sid)).to.deep.equal(["DenyPlainHttp", "ServerNeverErasesBackups"]);
            expect(policy[1]).to.deep.include({ Effect: "Deny", Principal: { AWS: mocked.role(name, "server-role", "arn") } });
            expect(policy[1].Action).to.include("s3:DeleteObjectVersion");
        });

        it("runs the server as that role, through an instance profile only EC2 can assume", async () => {
            const { name } = await build();
            const role = resourceNamed("aws:iam/role:Role", `${name}-server-role`);
            expect(JSON.parse(role.inputs.assumeRolePolicy as string).Statement).to.deep.equal([
                { Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" },
            ]);
            expect(resourceNamed("aws:iam/instanceProfile:InstanceProfile", `${name}-server-profile`).inputs.role).to.equal(
                mocked.role(name, "server-role", "name"),
            );
            expect(onlyResourceOfType("aws:ec2/instance:Instance").inputs.iamInstanceProfile).to.equal(
                mockOutputOf("aws:iam/instanceProfile:InstanceProfile", `${name}-server-profile`, "name"),
            );
        });

        it("refuses an ECDSA public key, which EC2's ImportKeyPair refuses, naming the two key types it takes", () => {
            const ecdsa = "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBEx= you@laptop";
            const args = { domain: "example.com", sshPublicKey: ecdsa, sshAllowedCidrs: ["203.0.113.7/32"] };
            expect(() => new WebServer("ecdsa-key", args)).to.throw(
                pulumi.ResourceError,
                /sshPublicKey is "ecdsa-sha2-nistp256"\.\.\.; EC2 imports ssh-ed25519 and ssh-rsa keys only/,
            );
        });

        it("refuses a retention that is not a whole number of days from 1 to 3650, naming the fix", () => {
            const args = { domain: "example.com", sshPublicKey: SSH_PUBLIC_KEY, sshAllowedCidrs: ["203.0.113.7/32"] };
            for (const days of [0, 2.5, 3651]) {
                expect(() => new WebServer(`bad-retention-${days}`, { ...args, backupRetentionDays: days })).to.throw(
                    pulumi.ResourceError,
                    new RegExp(`backupRetentionDays is ${days}; expected a whole number from 1 to 3650, for example 14`),
                );
            }
        });
    });

    describe("arguments another program computes", () => {
        it("takes the zone, subnet, allowed blocks, key, image, volume size and TTL as outputs of other resources", async () => {
            const { name } = await build({
                rootVolumeSizeGiB: pulumi.output(24),
                dnsTtl: pulumi.output(120),
                hostedZoneId: pulumi.output("Z0PROGRAMZONE"),
                subnetId: pulumi.output("subnet-0123456789abcdef0"),
                sshAllowedCidrs: pulumi.output(["198.51.100.0/24"]),
                sshPublicKey: pulumi.output(SSH_PUBLIC_KEY),
                amiId: pulumi.output("ami-0123456789abcdef0"),
            });
            expect(resourceNamed("aws:route53/record:Record", `${name}-www-record`).inputs).to.include({
                zoneId: "Z0PROGRAMZONE",
                ttl: 120,
            });
            expect((onlyResourceOfType("aws:ec2/instance:Instance").inputs.rootBlockDevice as { volumeSize: number }).volumeSize).to.equal(
                24,
            );
            expect(onlyResourceOfType("aws:ec2/instance:Instance").inputs).to.deep.include({
                subnetId: "subnet-0123456789abcdef0",
                ami: "ami-0123456789abcdef0",
            });
            const ssh = (
                resourceNamed("aws:ec2/securityGroup:SecurityGroup", `${name}-sg`).inputs.ingress as {
                    fromPort: number;
                    cidrBlocks: string[];
                }[]
            ).find((rule) => rule.fromPort === 22);
            expect(ssh?.cidrBlocks).to.deep.equal(["198.51.100.0/24"]);
            expect(onlyResourceOfType("aws:ec2/keyPair:KeyPair").inputs.publicKey).to.equal(publicKeyMaterial(SSH_PUBLIC_KEY));
            expect(callsOf("aws:route53/getZone:getZone")).to.deep.equal([]);
        });

        it("takes the domain as an output, for example a zone's name, for the records, the site and the URL", async () => {
            const { component: server, name } = await build({
                domain: pulumi.output("program-zone.example"),
                provisioning: TLS_PROVISIONING,
            });
            expect(resourceNamed("aws:route53/record:Record", `${name}-www-record`).inputs.name).to.equal("www.program-zone.example");
            expect(await scriptRunByStep(`${name}-provision-nginx`)).to.contain("server_name www.program-zone.example;");
            expect(await scriptRunByStep(`${name}-provision-certbot`)).to.contain("export CERT_DOMAINS='www.program-zone.example'");
            expect(await valueOf(server.url)).to.equal("https://www.program-zone.example");
        });

        it("refuses an invalid domain, snapshot count or SSH block with an error that names the argument, the value and an example", () => {
            const args = { domain: "example.com", sshPublicKey: SSH_PUBLIC_KEY, sshAllowedCidrs: ["203.0.113.7/32"] };
            expect(() => new WebServer("bad-domain", { ...args, domain: "www.example.com" })).to.throw(
                pulumi.ResourceError,
                /domain "www.example.com" starts with "www."; give the apex domain \(example.com\)/,
            );
            for (const count of [1.5, -1, 1001]) {
                expect(() => new WebServer(`bad-snapshots-${count}`, { ...args, dailySnapshots: count })).to.throw(
                    pulumi.ResourceError,
                    new RegExp(`dailySnapshots is ${count}; expected a whole number from 0 to 1000, for example 7`),
                );
            }
            expect(() => new WebServer("bad-cidr", { ...args, sshAllowedCidrs: ["203.0.113.7", "::/0"] })).to.throw(
                pulumi.ResourceError,
                /sshAllowedCidrs has "203.0.113.7", which is not a CIDR block; expected for example 203.0.113.7\/32/,
            );
        });
    });

    describe("alerts", () => {
        it("creates no topic, health check or alarm without an alert email", async () => {
            await build();
            expect(alertResourceNames()).to.deep.equal([]);
        });

        it("checks the app's health path at https://www.<domain> from Route53 and mails the address when the site, the instance or its CPU credits fail, and when they recover", async () => {
            const { name } = await build({ alertEmail: "ops@example.com", provisioning: TLS_PROVISIONING });
            const healthCheck = onlyResourceOfType("aws:route53/healthCheck:HealthCheck");
            expect(healthCheck.inputs).to.deep.include({
                type: "HTTPS",
                fqdn: "www.example.com",
                port: 443,
                resourcePath: "/health",
                enableSni: true,
                failureThreshold: 3,
            });

            const topics = resourcesOfType("aws:sns/topic:Topic").map((topic) => topic.name);
            expect(topics).to.deep.equal([`${name}-alerts`, `${name}-alerts-us-east-1`]);
            const subscriptions = resourcesOfType("aws:sns/topicSubscription:TopicSubscription");
            expect(subscriptions.map((subscription) => subscription.inputs)).to.deep.equal(
                topics.map((topic) => ({
                    topic: mocked.topicArn(topic),
                    protocol: "email",
                    endpoint: "ops@example.com",
                })),
            );

            const alarms = Object.fromEntries(resourcesOfType(ALARM_TYPE).map((alarm) => [alarm.name, alarm.inputs]));
            expect(Object.keys(alarms).sort()).to.deep.equal([
                `${name}-backup-not-verified-alarm`,
                `${name}-backup-shipping-behind-alarm`,
                `${name}-cpu-credits-alarm`,
                `${name}-reboot-pending-alarm`,
                `${name}-root-disk-full-alarm`,
                `${name}-site-down-alarm`,
                `${name}-status-check-alarm`,
            ]);
            expect(alarms[`${name}-site-down-alarm`]).to.deep.include({
                namespace: "AWS/Route53",
                metricName: "HealthCheckStatus",
                dimensions: { HealthCheckId: mocked.healthCheckId(name) },
            });
            expect(alarms[`${name}-status-check-alarm`]).to.deep.include({
                metricName: "StatusCheckFailed",
                dimensions: { InstanceId: mocked.instanceId(name) },
            });
            for (const [alarmName, alarm] of Object.entries(alarms)) {
                const topic = alarmName.endsWith("site-down-alarm") ? `${name}-alerts-us-east-1` : `${name}-alerts`;
                expect(alarm.alarmActions, alarmName).to.deep.equal([mocked.topicArn(topic)]);
                expect(alarm.okActions, alarmName).to.deep.equal(alarm.alarmActions);
            }
        });

        it("mails when no restore of the bucket's backup succeeded for 26 hours, shipping is 5 minutes behind or the server stops reporting, and the root disk is 85 % full", async () => {
            const { name } = await build({ alertEmail: "ops@example.com" });
            const alarm = (suffix: string) => resourceNamed(ALARM_TYPE, `${name}-${suffix}-alarm`).inputs;
            const onTheServersReport = {
                namespace: "webstack",
                dimensions: { Server: `dev-${name}` },
                statistic: "Maximum",
                comparisonOperator: "GreaterThanOrEqualToThreshold",
                period: 300,
                evaluationPeriods: 1,
                alarmActions: [mocked.topicArn(`${name}-alerts`)],
            };
            expect(alarm("backup-not-verified")).to.deep.include({
                ...onTheServersReport,
                metricName: "SecondsSinceVerifiedRestore",
                threshold: 26 * 3600,
                treatMissingData: "notBreaching",
            });
            expect(alarm("backup-shipping-behind")).to.deep.include({
                ...onTheServersReport,
                metricName: "SecondsSinceBackupsShipped",
                threshold: 300,
                treatMissingData: "breaching",
            });
            expect(alarm("root-disk-full")).to.deep.include({
                ...onTheServersReport,
                metricName: "RootDiskUsedPercent",
                threshold: 85,
                treatMissingData: "notBreaching",
            });
        });

        it("mails an hour after an update asked for a reboot without a maintenance window, and after 8 days with one, which missed it", async () => {
            const rebootPending = ({ name }: { name: string }) => resourceNamed(ALARM_TYPE, `${name}-reboot-pending-alarm`).inputs;
            const withoutWindow = rebootPending(await build({ alertEmail: "ops@example.com" }));
            expect(withoutWindow).to.deep.include({
                namespace: "webstack",
                metricName: "SecondsRebootPending",
                statistic: "Maximum",
                comparisonOperator: "GreaterThanOrEqualToThreshold",
                threshold: 3600,
                treatMissingData: "notBreaching",
            });
            expect(withoutWindow.alarmDescription).to.contain("set webstack:maintenanceWindow");
            const withWindow = rebootPending(
                await build({ alertEmail: "ops@example.com", provisioning: { ...PROVISIONING, maintenanceWindow: "Sun 03:00" } }),
            );
            expect(withWindow.threshold).to.equal(8 * 24 * 3600);
            expect(withWindow.alarmDescription).to.contain("the maintenance window passed without it");
        });

        it("watches no backup metric on a server the stack does not provision, which reports none", async () => {
            await build({ alertEmail: "ops@example.com", provisioning: undefined });
            const watched = resourcesOfType(ALARM_TYPE).map((alarm) => alarm.inputs.namespace);
            expect(watched).to.not.include("webstack");
            expect(watched).to.include("AWS/EC2");
        });

        it("puts the health check's alarm and topic in us-east-1, where Route53 publishes its metrics", async () => {
            const { name } = await build({ alertEmail: "ops@example.com" });
            const provider = onlyResourceOfType("pulumi:providers:aws");
            expect(provider.inputs).to.deep.include({ region: "us-east-1" });
            expect(onlyResourceOfType("aws:route53/healthCheck:HealthCheck").inputs).to.deep.include({ type: "HTTP", port: 80 });
            const inUsEast1 = resources().filter((resource) => resource.provider?.includes(`::${name}-us-east-1::`));
            expect(inUsEast1.map((resource) => resource.name).sort()).to.deep.equal([
                `${name}-alerts-us-east-1`,
                `${name}-alerts-us-east-1-email`,
                `${name}-site-down-alarm`,
            ]);
        });

        it("starts the health check only after the last provisioning step, so that a new server mails no false 'site down'", async () => {
            const { name } = await build({ alertEmail: "ops@example.com", provisioning: TLS_PROVISIONING });
            const lastStep = serverPlan(TLS_PROVISIONING).at(-1)?.name;
            expect(onlyResourceOfType("aws:route53/healthCheck:HealthCheck").dependsOn).to.include(`${name}-provision-${lastStep}`);
        });

        it("watches CPU credits on burstable types only", async () => {
            const { name } = await build({ alertEmail: "ops@example.com", instanceType: "m7i.large" });
            expect(
                resourcesOfType(ALARM_TYPE)
                    .map((alarm) => alarm.name)
                    .sort(),
            ).to.not.include(`${name}-cpu-credits-alarm`);
        });
    });

    describe("address and DNS", () => {
        it("binds the Elastic IP to the instance", async () => {
            const { name } = await build();
            const eip = onlyResourceOfType("aws:ec2/eip:Eip");
            expect(eip.inputs.instance).to.equal(mocked.instanceId(name));
            expect(eip.inputs.domain).to.equal("vpc");
        });

        it("points an A record for www.<domain> at the Elastic IP in the domain's zone", async () => {
            await build();
            const [zoneLookup] = callsOf("aws:route53/getZone:getZone");
            expect(zoneLookup).to.include({ name: "example.com", privateZone: false });
            const record = onlyResourceOfType("aws:route53/record:Record");
            expect(record.inputs).to.include({ name: "www.example.com", type: "A", ttl: 300, zoneId: MOCK_ZONE_ID });
            expect(record.inputs.records).to.deep.equal([MOCK_PUBLIC_IP]);
        });

        it("adds the apex record and uses a given zone id without a lookup when asked", async () => {
            await build({ createApexRecord: true, hostedZoneId: "Z0GIVEN0ZONE", dnsTtl: 60 });
            expect(callsOf("aws:route53/getZone:getZone")).to.have.length(0);
            const records = resourcesOfType("aws:route53/record:Record").map((record) => record.inputs);
            expect(records.map((record) => record.name)).to.have.members(["www.example.com", "example.com"]);
            for (const record of records) {
                expect(record).to.include({ type: "A", ttl: 60, zoneId: "Z0GIVEN0ZONE" });
                expect(record.records).to.deep.equal([MOCK_PUBLIC_IP]);
            }
        });
    });

    describe("provisioning", () => {
        it("uploads the run steps' scripts first, then maps every plan step onto one remote resource, in plan order", async () => {
            await build();
            const remote = resources().filter((resource) => REMOTE_TYPES.includes(resource.type));
            expect(remote.map((resource) => resource.type)).to.deep.equal([
                "command:remote:CopyToRemote",
                ...PLAN.map((step) => (step.kind === "upload" ? "command:remote:CopyToRemote" : "command:remote:Command")),
            ]);
            expect(remote.map((resource) => resource.name.replace(/^web\d+-provision-/, ""))).to.deep.equal([
                "scripts",
                ...PLAN.map((step) => step.name),
            ]);
        });

        it("uploads the scripts as one directory into the login user's home, the app's environment and its secrets not among them", async () => {
            const { name } = await build({
                provisioning: { ...PROVISIONING, appEnvironment: { API_TOKEN: pulumi.secret("t0ken-in-no-file") } },
            });
            const upload = resourceNamed("command:remote:CopyToRemote", `${name}-provision-scripts`);
            expect(upload.inputs.remotePath).to.equal(".webstack/scripts");
            const directory = await shippedScriptsDirectory(upload);
            expect(directory).to.match(/\/build\/scripts\/[0-9a-f]{16}\/$/);
            const files = readdirSync(directory);
            const runSteps = PLAN.filter((step) => step.kind === "run" && !stepHoldsSecrets(step));
            expect(files.map((file) => file.replace(/-[0-9a-f]{16}\.sh$/, "")).sort()).to.deep.equal(
                [...runSteps.map((step) => step.name), "library"].sort(),
            );
            for (const file of files) {
                expect(readFileSync(join(directory, file), "utf8"), file).not.to.contain("t0ken-in-no-file");
            }
        });

        it("gives no step a delete or update command: destroying the stack runs nothing over SSH", async () => {
            await build();
            for (const resource of resourcesOfType("command:remote:Command")) {
                expect(resource.inputs, resource.name).not.to.have.any.keys("delete", "update");
            }
        });

        it("chains each step on the one before it", async () => {
            await build();
            const remote = resources().filter((resource) => REMOTE_TYPES.includes(resource.type));
            remote.slice(1).forEach((resource, index) => {
                expect(resource.dependsOn, resource.name).to.include(remote[index].name);
            });
        });

        it("connects every step to the Elastic IP as admin with the secret private key and boot-long dial retries", async () => {
            await build();
            for (const resource of resources().filter((candidate) => REMOTE_TYPES.includes(candidate.type))) {
                expect(resource.inputs.connection, resource.name).to.include({
                    host: MOCK_PUBLIC_IP,
                    user: "admin",
                    port: 22,
                    privateKey: "PRIVATE KEY TEXT",
                    perDialTimeout: 10,
                    dialErrorLimit: 128,
                });
                expect(resource.secretInputs, resource.name).to.include("connection");
            }
        });

        it("gives the instance, at first boot, an ed25519 host key the stack made once, and pins its public half in every step", async () => {
            const { name } = await build();
            expect(resourceNamed("tls:index/privateKey:PrivateKey", `${name}-host-key`).inputs).to.deep.equal({ algorithm: "ED25519" });
            const instance = onlyResourceOfType("aws:ec2/instance:Instance");
            expect(instance.secretInputs, "the user data holds the private key").to.include("userData");
            expect(instance.inputs.userData).to.contain(`  ed25519_public: ${MOCK_HOST_PUBLIC_KEY}\n`);
            for (const resource of resources().filter((candidate) => REMOTE_TYPES.includes(candidate.type))) {
                expect((resource.inputs.connection as { hostKey: string }).hostKey, resource.name).to.equal(MOCK_HOST_PUBLIC_KEY);
            }
        });

        it("pins the configured host key instead, for a server whose key is its own", async () => {
            const sshHostKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOwnKeyOfAnOlderServer0000000000000000000000";
            await build({ provisioning: { ...PROVISIONING, sshHostKey } });
            for (const resource of resources().filter((candidate) => REMOTE_TYPES.includes(candidate.type))) {
                expect((resource.inputs.connection as { hostKey: string }).hostKey, resource.name).to.equal(sshHostKey);
            }
        });

        it("runs each run step's script, rendered for the domain and the backup bucket, as root, without logging stdout or handing it its previous output", async () => {
            const { name } = await build();
            const commands = resourcesOfType("command:remote:Command");
            const runSteps = PLAN.filter((step): step is RunStep => step.kind === "run");
            // The test's private key is no key, so the configured public key is all the server keeps.
            const inputs = {
                domain: "example.com",
                authorizedKeys: [publicKeyMaterial(SSH_PUBLIC_KEY)],
                backupBucket: { bucket: mocked.backupBucket(name), prefix: `dev-${name}`, region: "eu-central-1" },
            };
            expect(await Promise.all(commands.map((command) => scriptRunBy(command)))).to.deep.equal(
                runSteps.map((step) =>
                    stepHoldsSecrets(step)
                        ? scriptSourcingLibrary(step.name, stepScript(step, inputs), `${name}-provision-scripts`)
                        : stepScript(step, inputs),
                ),
            );
            for (const command of commands) {
                expect(command.inputs.create).to.equal("sudo bash -s");
                expect(command.inputs.logging).to.equal("stderr");
                expect(command.inputs.addPreviousOutputInEnv).to.equal(false);
            }
        });

        it("keeps exactly the configured key and the one the steps connect with authorized, in a last step, in plain text", async () => {
            const { name } = await build();
            const last = resources()
                .filter((resource) => REMOTE_TYPES.includes(resource.type))
                .at(-1);
            expect(last?.name).to.equal(`${name}-provision-ssh-access`);
            expect(await scriptRunByStep(String(last?.name))).to.contain(publicKeyMaterial(SSH_PUBLIC_KEY));
            expect(last?.secretInputs).to.not.include("stdin");

            const [rotatedTo, connecting] = [sshKeyPair("rotated-to"), sshKeyPair("connecting")];
            expect(await valueOf(authorizedKeys(`${rotatedTo.publicKey} new@laptop`, connecting.privateKey))).to.deep.equal([
                rotatedTo.publicKey,
                connecting.publicKey,
            ]);
            expect(await valueOf(authorizedKeys(connecting.publicKey, connecting.privateKey))).to.deep.equal([connecting.publicKey]);
            expect(await valueOf(authorizedKeys(connecting.publicKey, pulumi.secret("preview-only: no SSH key")))).to.deep.equal([
                connecting.publicKey,
            ]);
        });

        it("logs in through the ssh-agent when given no private key: none in any step, and the configured key the one kept authorized", async () => {
            const { sshPrivateKey: _unused, ...withoutKey } = PROVISIONING;
            await build({ provisioning: withoutKey });
            for (const resource of resources().filter((candidate) => REMOTE_TYPES.includes(candidate.type))) {
                expect(resource.inputs.connection, resource.name).to.not.have.property("privateKey");
            }
            const sshAccess = resources()
                .filter((resource) => REMOTE_TYPES.includes(resource.type))
                .at(-1);
            expect(await scriptRunByStep(String(sshAccess?.name))).to.contain(`connects with.\n${publicKeyMaterial(SSH_PUBLIC_KEY)}\n'`);
        });

        it("keeps what the app's environment step prints secret, and no other step's output", async () => {
            const { name } = await build();
            const secretOutput = resourcesOfType("command:remote:Command").map((command) => [
                command.name,
                command.additionalSecretOutputs.filter((output) => /^std/.test(output)),
            ]);
            expect(secretOutput.filter(([, outputs]) => outputs.length > 0)).to.deep.equal([
                [`${name}-provision-app-environment`, ["stdout", "stderr"]],
            ]);
        });

        it("runs every step again when the instance behind the address is replaced", async () => {
            const { name } = await build();
            for (const resource of resources().filter((candidate) => REMOTE_TYPES.includes(candidate.type))) {
                expect(resource.inputs.triggers, resource.name).to.deep.equal([identityTrigger(mocked.instanceId(name))]);
            }
        });

        it("copies upload steps to their remote path", async () => {
            const { name } = await build();
            const copy = resourceNamed("command:remote:CopyToRemote", `${name}-provision-upload-release`);
            expect(copy.inputs.remotePath).to.equal("/var/lib/webstack/uploads/release-0123456789ab.tar.gz");
        });

        it("keeps the app's environment in the app-environment step alone, as a secret, even when given in plain text", async () => {
            const { name } = await build({
                provisioning: { ...PROVISIONING, appEnvironment: { API_TOKEN: "plain-t0ken-value", GREETING: pulumi.secret("hello") } },
            });
            const commands = resourcesOfType("command:remote:Command");
            const holding = commands
                .filter((command) => String(command.inputs.stdin).includes("plain-t0ken-value"))
                .map((command) => command.name);
            expect(holding).to.deep.equal([`${name}-provision-app-environment`]);
            const environmentStep = resourceNamed("command:remote:Command", holding[0]);
            expect(environmentStep.inputs.stdin).to.contain('GREETING="hello"');
            expect(environmentStep.secretInputs).to.include("stdin");
            expect(commands.filter((command) => command.secretInputs.includes("stdin")).map((command) => command.name)).to.deep.equal(
                holding,
            );
        });

        it("refuses an app environment the platform owns before creating anything, naming the variable but not its value", async () => {
            const args = { domain: "example.com", sshPublicKey: SSH_PUBLIC_KEY, sshAllowedCidrs: ["203.0.113.7/32"] };
            resetRecords();
            expect(() => new WebServer("bad-env", { ...args, provisioning: { ...PROVISIONING, appEnvironment: { PORT: "8080-secret" } } }))
                .to.throw(pulumi.ResourceError, /appEnvironment: PORT is set by webstack for every instance/)
                .with.property("message")
                .that.does.not.contain("8080-secret");
            await settle();
            expect(
                resources().filter((resource) => resource.name.startsWith("bad-env") && resource.type !== "webstack:index:WebServer"),
            ).to.deep.equal([]);
        });

        it("refuses settings the plan cannot be built from, naming the argument", () => {
            const args = { domain: "example.com", sshPublicKey: SSH_PUBLIC_KEY, sshAllowedCidrs: ["203.0.113.7/32"] };
            expect(() => new WebServer("bad-instances", { ...args, provisioning: { ...PROVISIONING, appInstances: 9 } })).to.throw(
                pulumi.ResourceError,
                /provisioning: appInstances is 9; expected a whole number from 1 to 8/,
            );
        });

        it("runs a step that needs DNS only after the DNS record exists", async () => {
            const { name } = await build({ provisioning: TLS_PROVISIONING });
            const certificate = resources().find((resource) => resource.name.endsWith("-certbot"));
            expect(certificate?.dependsOn).to.include(`${name}-www-record`);
            const bootstrap = resources().find((resource) => resource.name.endsWith("-bootstrap"));
            expect(bootstrap?.dependsOn).to.not.include(`${name}-www-record`);
        });

        it("creates no remote resource when provisioning is off", async () => {
            await build({ provisioning: undefined });
            expect(resources().filter((resource) => REMOTE_TYPES.includes(resource.type))).to.have.length(0);
        });
    });

    describe("outputs", () => {
        it("exposes the URL, the address, the instance, an SSH command and the backup bucket", async () => {
            const { component: server, name } = await build();
            expect(await valueOf(server.url)).to.equal("http://www.example.com");
            expect(await valueOf(server.hostName)).to.equal("www.example.com");
            expect(await valueOf(server.publicIp)).to.equal(MOCK_PUBLIC_IP);
            expect(await valueOf(server.instanceId)).to.equal(mocked.instanceId(name));
            expect(await valueOf(server.sshCommand)).to.equal(`ssh admin@${MOCK_PUBLIC_IP}`);
            expect(await valueOf(server.backupBucket)).to.equal(mocked.backupBucket(name));
        });

        it("gives an https URL when its provisioning has tls, or when told so for a server it does not configure", async () => {
            expect(await valueOf((await build({ provisioning: TLS_PROVISIONING })).component.url)).to.equal("https://www.example.com");
            expect(await valueOf((await build({ provisioning: undefined, https: true })).component.url)).to.equal(
                "https://www.example.com",
            );
        });

        it("refuses both provisioning and an https switch, which could disagree", async () => {
            expect(
                () =>
                    new WebServer("both", {
                        domain: "example.com",
                        sshPublicKey: SSH_PUBLIC_KEY,
                        sshAllowedCidrs: [],
                        https: true,
                        provisioning: PROVISIONING,
                    }),
            ).to.throw(/Only one of \[https\] and \[provisioning\] can be specified/);
        });
    });
    describe("server generations", () => {
        const COMMAND = "command:remote:Command";
        const INSTANCE = "aws:ec2/instance:Instance";
        const INSTANCE_STATE = "aws:ec2transitgateway/instanceState:InstanceState";
        const moveStepNames = (name: string, from: number, to: number, how: string) =>
            ["key", "allow", how, "pause-writes", "promote"].map((step) => `${name}-move-g${from}-g${to}-${step}`);
        const commandOf = (name: string) => resourceNamed(COMMAND, name).inputs;

        it("declares one protected server, as before generations, by default: no state, no move", async () => {
            const { name } = await build();
            expect(resourcesOfType(INSTANCE).map((resource) => [resource.name, resource.protect])).to.deep.equal([
                [`${name}-instance`, true],
            ]);
            expect(resourcesOfType(INSTANCE_STATE)).to.deep.equal([]);
            expect(resources().filter((resource) => resource.name.includes("-move-"))).to.deep.equal([]);
            expect(resourceNamed(COMMAND, `${name}-provision-packages`).inputs.connection).to.include({ host: MOCK_PUBLIC_IP });
        });

        /** Builds a server with EC2 having these generations of it already. */
        const buildWith = async (existing: number[], overrides: Partial<WebServerArgs>) => {
            mockExistingGenerations.splice(0, mockExistingGenerations.length, ...existing);
            try {
                return await build(overrides);
            } finally {
                mockExistingGenerations.length = 0;
            }
        };

        it("asks EC2 which of its servers exist, by their Name", async () => {
            const { name } = await build();
            expect(
                callsOf("aws:ec2/getInstances:getInstances").map((call) => (call.instanceTags as Record<string, string>).Name),
            ).to.include(`${name}-instance*`);
        });

        describe("moving to a new server ([2, 1])", () => {
            let name: string;
            before(async () => {
                ({ name } = await buildWith([1], { serverGenerations: [2, 1] }));
            });

            it("builds server 2, protected, and keeps server 1 as it was launched, unprotected so that a later list can drop it", () => {
                const [kept, serving] = [resourceNamed(INSTANCE, `${name}-instance`), resourceNamed(INSTANCE, `${name}-instance-g2`)];
                expect(serving.protect).to.equal(true);
                expect(serving.inputs.tags).to.include({ Name: `${name}-instance-g2` });
                expect(kept.protect).to.equal(false);
                expect(kept.ignoreChanges).to.include.members([...KEPT_SERVER_IGNORED_INPUTS]);
            });

            it("configures server 2 with the whole plan at its own address before the move, not waiting for the records", () => {
                const packages = commandOf(`${name}-provision-g2-packages`);
                expect(packages.connection).to.include({ host: mockCurrentPublicIp(mockIdOf(INSTANCE, `${name}-instance-g2`)) });
                expect(
                    resourceNamed(COMMAND, `${name}-provision-g2-${PLAN.slice(-1)[0].name}`).dependsOn.some((each) =>
                        each.endsWith("-record"),
                    ),
                ).to.equal(false);
            });

            it("runs the move's steps in order after the plan, each on its server: the old one through the address it holds", () => {
                const steps = moveStepNames(name, 1, 2, "follow");
                const oldHost = mockCurrentPublicIp(mockIdOf(INSTANCE, `${name}-instance`));
                const newHost = mockCurrentPublicIp(mockIdOf(INSTANCE, `${name}-instance-g2`));
                expect(steps.map((step) => (commandOf(step).connection as { host: string }).host)).to.deep.equal([
                    newHost,
                    oldHost,
                    newHost,
                    oldHost,
                    newHost,
                ]);
                expect(resourceNamed(COMMAND, steps[0]).dependsOn).to.include(`${name}-provision-g2-${PLAN.slice(-1)[0].name}`);
                steps.slice(1).forEach((step, index) => expect(resourceNamed(COMMAND, step).dependsOn).to.include(steps[index]));
                // Done once: the addresses change as the site moves, and must not run a step again.
                steps.forEach((step) => expect(resourceNamed(COMMAND, step).ignoreChanges).to.deep.equal(["connection"]));
            });

            it("gives each step the output it needs: the new key to allow, the old server's private address and host key to follow, the paused position to promote", () => {
                const [, allow, follow, pause, promote] = moveStepNames(name, 1, 2, "follow").map(commandOf);
                expect(allow.stdin).to.equal(MOVE_COMMANDS.allow(MOCK_REPLICATION_KEY).command);
                expect(follow.stdin).to.equal(MOVE_COMMANDS.catchUp("follow", "172.31.5.9", MOCK_HOST_PUBLIC_KEY).command);
                expect(pause.stdin).to.equal(MOVE_COMMANDS.pauseWrites.command);
                expect(promote.stdin).to.equal(MOVE_COMMANDS.promote(MOCK_PAUSED_POSITION).command);
                expect(promote.create).to.equal("sudo bash -s");
            });

            it("moves the Elastic IP to server 2 once it is promoted, and then stops server 1", () => {
                const eip = resourcesOfType("aws:ec2/eip:Eip")[0];
                expect(eip.inputs.instance).to.equal(mockIdOf(INSTANCE, `${name}-instance-g2`));
                expect(eip.dependsOn).to.include(`${name}-move-g1-g2-promote`);
                const stopped = resourceNamed(INSTANCE_STATE, `${name}-instance-state`);
                expect(stopped.inputs).to.include({ instanceId: mockIdOf(INSTANCE, `${name}-instance`), state: "stopped" });
                expect(stopped.dependsOn).to.include(eip.name);
                expect(resourceNamed(INSTANCE_STATE, `${name}-instance-state-g2`).inputs).to.include({ state: "running" });
            });
        });

        describe("moving back ([1, 2])", () => {
            let name: string;
            before(async () => {
                ({ name } = await buildWith([1, 2], { serverGenerations: [1, 2] }));
            });

            it("starts server 1 again and rejoins it before anything else runs on it, then configures it once the address is back", () => {
                const steps = moveStepNames(name, 2, 1, "rejoin");
                expect(resourceNamed(INSTANCE_STATE, `${name}-instance-state`).inputs).to.include({ state: "running" });
                expect(resourceNamed(COMMAND, steps[0]).dependsOn).to.include(`${name}-instance-state`);
                expect(resourceNamed(COMMAND, `${name}-provision-packages`).dependsOn.some((each) => each.endsWith("-eip"))).to.equal(true);
                expect(resourceNamed(INSTANCE_STATE, `${name}-instance-state-g2`).inputs).to.include({ state: "stopped" });
                expect(resourceNamed(INSTANCE, `${name}-instance`).protect).to.equal(true);
                expect(resourceNamed(INSTANCE, `${name}-instance-g2`).protect).to.equal(false);
            });
        });

        describe("moving an HTTPS site", () => {
            let name: string;
            before(async () => {
                ({ name } = await buildWith([1], {
                    serverGenerations: [2, 1],
                    provisioning: { ...PROVISIONING, tls: TLS_PROVISIONING.tls },
                }));
            });

            it("carries the old server's certificates to the new one before its plan, as secrets, so that its certbot step keeps them", () => {
                const [read, install] = ["read-certificates", "install-certificates"].map((step) =>
                    resourceNamed(COMMAND, `${name}-move-g1-g2-${step}`),
                );
                expect(read.inputs.stdin).to.equal(MOVE_COMMANDS.readCertificates.command);
                expect(read.additionalSecretOutputs).to.include("stdout");
                expect(install.secretInputs).to.include("stdin");
                expect(install.dependsOn).to.include(read.name);
                expect((install.inputs.connection as { host: string }).host).to.equal(
                    mockCurrentPublicIp(mockIdOf(INSTANCE, `${name}-instance-g2`)),
                );
                expect(resourceNamed("command:remote:CopyToRemote", `${name}-provision-g2-scripts`).dependsOn).to.include(install.name);
            });
        });

        it("carries no certificate for an HTTP site, nor back to a server that has its own", async () => {
            const certificateSteps = () => resources().filter((resource) => resource.name.includes("certificates"));
            await buildWith([1], { serverGenerations: [2, 1] });
            expect(certificateSteps()).to.deep.equal([]);
            await buildWith([1, 2], { serverGenerations: [1, 2], provisioning: { ...PROVISIONING, tls: TLS_PROVISIONING.tls } });
            expect(certificateSteps()).to.deep.equal([]);
        });

        it("refuses a list that is not one, or a move without provisioning, before any resource", () => {
            const args = { domain: "example.com", sshPublicKey: SSH_PUBLIC_KEY, sshAllowedCidrs: ["203.0.113.7/32"] };
            expect(() => new WebServer("gen-bad-list", { ...args, provisioning: PROVISIONING, serverGenerations: [2, 2] })).to.throw(
                pulumi.ResourceError,
                /^serverGenerations is "2,2", which names a server twice/,
            );
            expect(() => new WebServer("gen-no-plan", { ...args, serverGenerations: [2, 1] })).to.throw(
                pulumi.ResourceError,
                /^serverGenerations lists 2 servers \(2,1\), but the site moves between servers through the commands its plan installs/,
            );
        });
    });
});

describe("renderHostKeyUserData", () => {
    const key = {
        privateKeyOpenssh: "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\nBBBB\n-----END OPENSSH PRIVATE KEY-----\n",
        publicKeyOpenssh: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKey\n",
    };

    it("has cloud-init install the key as the only host key, the private one as a YAML block", () => {
        expect(renderHostKeyUserData(key)).to.equal(
            [
                "#cloud-config",
                "ssh_deletekeys: true",
                "ssh_genkeytypes: []",
                "ssh_keys:",
                "  ed25519_private: |",
                "    -----BEGIN OPENSSH PRIVATE KEY-----",
                "    AAAA",
                "    BBBB",
                "    -----END OPENSSH PRIVATE KEY-----",
                "  ed25519_public: ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKey",
                "",
            ].join("\n"),
        );
    });

    it("is YAML that gives back the key pair byte for byte", () => {
        const parsed = parse(renderHostKeyUserData(key)) as { ssh_keys: Record<string, string> };
        expect(parsed.ssh_keys).to.deep.equal({ ed25519_private: key.privateKeyOpenssh, ed25519_public: key.publicKeyOpenssh.trim() });
    });
});

describe("hostKeyProblem", () => {
    const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKey";

    it("lets a new server, or one launched with the stack's host key, be pinned to it", () => {
        expect(hostKeyProblem(undefined, HOST_KEY)).to.equal(undefined);
        expect(
            hostKeyProblem(
                {
                    instanceType: "t3.micro",
                    ami: MOCK_AMI_ID,
                    userData: renderHostKeyUserData({ privateKeyOpenssh: "K", publicKeyOpenssh: HOST_KEY }),
                },
                HOST_KEY,
            ),
        ).to.equal(undefined);
    });

    it("refuses a server launched before the stack gave it a host key, with the command that pins its own", () => {
        expect(hostKeyProblem({ instanceType: "t3.micro", ami: MOCK_AMI_ID, userData: "" }, HOST_KEY)).to.match(
            /launched before the stack gave its servers their SSH host key.*pulumi config set webstack:sshHostKey .*ssh-keyscan -t ed25519/,
        );
    });
});

describe("architectureChangeProblem", () => {
    it("lets a new server take any type, and a running one another type of its architecture", () => {
        expect(architectureChangeProblem(undefined, "t4g.micro")).to.equal(undefined);
        expect(architectureChangeProblem("t3.micro", "m7i.large")).to.equal(undefined);
        expect(architectureChangeProblem("t4g.micro", "a1.medium")).to.equal(undefined);
    });

    it("refuses to move a running server between x86_64 and arm64, naming both types and the way to a new server", () => {
        expect(architectureChangeProblem("t3.micro", "t4g.micro")).to.match(
            /^instanceType is t4g\.micro \(arm64\), but the server runs t3\.micro \(x86_64\), and its x86_64 image cannot boot on arm64\. Keep an x86_64 type, or move the site to a new server of that type, .*put a new generation first in webstack:serverGenerations \(for example 2,1\)/,
        );
        expect(architectureChangeProblem("c7g.large", "c7i.large")).to.contain("runs c7g.large (arm64)");
    });
});

describe("providerArgsForRegion", () => {
    it("keeps who the stack acts as and which accounts it may touch, with credentials secret, in the other region", async () => {
        const args = providerArgsForRegion(
            {
                profile: "ops",
                assumeRoles: [{ roleArn: "arn:aws:iam::123456789012:role/deploy" }],
                allowedAccountIds: ["123456789012"],
                accessKey: "AKIAEXAMPLE",
                secretKey: "secret-example",
                defaultTags: { tags: { team: "web" } },
            },
            "us-east-1",
        );
        expect(args).to.deep.include({
            region: "us-east-1",
            profile: "ops",
            assumeRoles: [{ roleArn: "arn:aws:iam::123456789012:role/deploy" }],
            allowedAccountIds: ["123456789012"],
            defaultTags: { tags: { team: "web" } },
        });
        expect(pulumi.Output.isInstance(args.secretKey)).to.equal(true);
        expect(await valueOf(pulumi.output(args.accessKey) as pulumi.Output<string>)).to.equal("AKIAEXAMPLE");
    });

    it("sets nothing the stack left unset", () => {
        expect(providerArgsForRegion({ profile: undefined }, "us-east-1")).to.deep.equal({ region: "us-east-1" });
    });
});

describe("snapshotPolicyDescription", () => {
    it("describes the policy only with what DLM takes, whatever the component is called", () => {
        expect(snapshotPolicyDescription("webstack")).to.equal("webstack webstack daily root volume snapshots");
        for (const name of ["shop.example:prod", "x".repeat(200), "web/1"]) {
            expect(snapshotPolicyDescription(name)).to.match(DLM_TEXT);
        }
    });
});

describe("snapshotPolicyDetails", () => {
    it("snapshots the tagged volumes every 24 hours and keeps the newest ones", () => {
        const details = snapshotPolicyDetails("dev-web", 3);
        expect(details.resourceTypes).to.deep.equal(["VOLUME"]);
        expect(details.targetTags).to.deep.equal({ "webstack-snapshots": "dev-web" });
        expect(details.schedules).to.deep.equal([
            {
                name: "daily",
                createRule: { interval: 24, intervalUnit: "HOURS", times: "03:00" },
                retainRule: { count: 3 },
                copyTags: true,
            },
        ]);
    });

    it("names its schedule the same for any count, so that DLM still deletes the snapshots made before a change of dailySnapshots", () => {
        const names = [1, 7, 1000].map((count) => (snapshotPolicyDetails("dev-web", count).schedules as { name: string }[])[0].name);
        expect(new Set(names)).to.deep.equal(new Set(["daily"]));
        expect(names[0]).to.match(DLM_TEXT);
    });
});
