import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import {
    ALARM_TYPE,
    alertResourceNames,
    callsOf,
    componentUnderMocks,
    installMocks,
    MOCK_AMI_ID,
    MOCK_DEFAULT_SUBNETS,
    MOCK_OFFERING_ZONES,
    MOCK_DEPLOYER_ARN,
    MOCK_VPC_CIDR,
    MOCK_ZONE_ID,
    mockIdOf,
    mockObjectVersion,
    mockOutputOf,
    mockRunningInstance,
    onlyResourceOfType,
    resetRecords,
    resourceNamed,
    resources,
    resourcesOfType,
    valueOf,
    type RecordedResource,
} from "../../support/pulumiMocks";
import { buildFleetPlan } from "../../../provisioning";
import { checkedCaBundle } from "../../../provisioning/files/fleet";
import { APP_STOP_TIMEOUT_SECONDS } from "../../../provisioning/files/systemd";
import { CLIENT_KEEPALIVE_SECONDS, renderSite } from "../../../provisioning/files/nginx";
import { renderMaintenanceAnswer, renderMaintenancePage } from "../../../provisioning/files/maintenance";
import { USER_DATA_MAX_BYTES } from "../../../components/fleet/firstBoot";
import { appServerBounds, type WebFleet as WebFleetClass, type WebFleetArgs } from "../../../components/webFleet";
import { appServerPolicy } from "../../../components/fleet/appServers";
import { RELEASE_POLL_SECONDS, releaseWaitSeconds, renderReleaseWait } from "../../../components/fleet/releaseWait";
import {
    checkedDatabaseMaintenanceWindow,
    databaseMaintenanceWindow,
    finalSnapshotName,
    rdsCaBundle,
} from "../../../components/fleet/database";
import { checkedZones } from "../../../components/fleet/network";
import { PLAN_BUCKET_CREATOR_TAG, planBucketPolicy, planReaders, principalArnPatterns } from "../../../components/fleet/planBucket";
import { createWaitMet, minSizeUpdateWaitMet, type CapacityWaitArgs } from "../../support/autoscalingCapacityWait";

const RELEASE = { id: "0123456789ab", artifactPath: __filename, healthPath: "/health" };
const DEFAULT_SUBNETS = Object.keys(MOCK_DEFAULT_SUBNETS).sort();

describe("appServerBounds", () => {
    it("keeps two app servers at least, up to twenty", () => {
        expect(appServerBounds(2, 4)).to.deep.equal({ min: 2, max: 4 });
        expect(appServerBounds(20, 20)).to.deep.equal({ min: 20, max: 20 });
    });

    it("refuses one server, a fraction, or a maximum below the minimum, saying what to set", () => {
        expect(() => appServerBounds(1, 4)).to.throw("minAppServers is 1; expected a whole number from 2 to 20, for example 2.");
        expect(() => appServerBounds(2, 21)).to.throw("maxAppServers is 21; expected a whole number from 2 to 20, for example 4.");
        expect(() => appServerBounds(2.5, 4)).to.throw(/minAppServers is 2.5; expected a whole number from 2 to 20/);
        expect(() => appServerBounds(4, 3)).to.throw(/maxAppServers is 3, fewer than minAppServers \(4\); set it to 4 or more/);
    });
});

describe("checkedZones", () => {
    const subnet = (id: string, availabilityZone: string, vpcId = "vpc-1") => ({ id, availabilityZone, vpcId });
    const offered = ["eu-central-1a", "eu-central-1b", "eu-central-1c"];

    it("gives the subnets' zones when there are two or more, one subnet each, in one VPC", () => {
        expect(checkedZones([subnet("a", "eu-central-1b"), subnet("b", "eu-central-1a")], "t3.micro", offered)).to.deep.equal([
            "eu-central-1a",
            "eu-central-1b",
        ]);
    });

    it("refuses subnets all in one zone, or spread over VPCs", () => {
        expect(() => checkedZones([subnet("a", "eu-central-1a")], "t3.micro", offered)).to.throw(
            /all in eu-central-1a; give public subnets in at least two availability zones/,
        );
        expect(() =>
            checkedZones([subnet("a", "eu-central-1a", "vpc-1"), subnet("b", "eu-central-1b", "vpc-2")], "t3.micro", offered),
        ).to.throw(/in 2 VPCs \(vpc-1, vpc-2\); give subnets of one VPC/);
    });

    it("refuses two subnets in one zone, which the load balancer would refuse, naming both", () => {
        expect(() =>
            checkedZones([subnet("a", "eu-central-1b"), subnet("b", "eu-central-1a"), subnet("c", "eu-central-1a")], "t3.micro", offered),
        ).to.throw(/subnetIds b and c are both in eu-central-1a; the load balancer takes one subnet per zone/);
    });

    it("refuses a zone that does not offer the instance type, naming the zones that do", () => {
        expect(() =>
            checkedZones([subnet("a", "eu-central-1a"), subnet("c", "eu-central-1c")], "m7g.large", ["eu-central-1a", "eu-central-1b"]),
        ).to.throw(
            /eu-central-1c \(subnet c\) does not offer m7g\.large; give subnets in eu-central-1a, eu-central-1b, or another instanceType/,
        );
    });
});

describe("principalArnPatterns", () => {
    it("names an assumed role's role, with or without a path, and keeps a user's ARN", () => {
        expect(principalArnPatterns("arn:aws:sts::123456789012:assumed-role/deploy/session")).to.deep.equal([
            "arn:aws:iam::123456789012:role/deploy",
            "arn:aws:iam::123456789012:role/*/deploy",
        ]);
        expect(principalArnPatterns("arn:aws:iam::123456789012:user/alice")).to.deep.equal(["arn:aws:iam::123456789012:user/alice"]);
    });

    it("reads a role's ARN without a path as its session's", () => {
        expect(principalArnPatterns("arn:aws:iam::123456789012:role/deploy")).to.deep.equal(
            principalArnPatterns("arn:aws:sts::123456789012:assumed-role/deploy/session"),
        );
    });
});

describe("planReaders", () => {
    const ci = "arn:aws:iam::123456789012:role/webstack-deploy";
    const alice = "arn:aws:sts::123456789012:assumed-role/admin/alice@example.com";

    it("names, by default, the bucket's creator and whoever applies the policy now, so that a colleague's up never locks CI out", () => {
        expect(planReaders({ callerArn: alice, creatorArn: ci, applying: true })).to.deep.equal([
            ci,
            "arn:aws:iam::123456789012:role/*/webstack-deploy",
            "arn:aws:iam::123456789012:role/admin",
            "arn:aws:iam::123456789012:role/*/admin",
        ]);
        expect(
            planReaders({ callerArn: "arn:aws:sts::123456789012:assumed-role/webstack-deploy/run-7", creatorArn: ci, applying: true }),
        ).to.deep.equal([ci, "arn:aws:iam::123456789012:role/*/webstack-deploy"]);
    });

    it("names the configured deployers alone when the identity applying the policy is one of them, with or without its role's path", () => {
        const deployers = ["arn:aws:iam::123456789012:role/ci/webstack-deploy", "arn:aws:iam::123456789012:user/bob"];
        const runBy = (callerArn: string) => planReaders({ callerArn, creatorArn: ci, deployerArns: deployers, applying: true });
        expect(runBy("arn:aws:sts::123456789012:assumed-role/webstack-deploy/run-7")).to.deep.equal(deployers);
        expect(runBy("arn:aws:iam::123456789012:user/bob")).to.deep.equal(deployers);
    });

    it("leaves a preview's identity, a pull request's read-only role, out of the policy and unchecked: a preview applies nothing", () => {
        const preview = "arn:aws:sts::123456789012:assumed-role/webstack-preview/run-8";
        expect(planReaders({ callerArn: preview, creatorArn: ci, applying: false })).to.deep.equal([
            ci,
            "arn:aws:iam::123456789012:role/*/webstack-deploy",
        ]);
        expect(planReaders({ callerArn: preview, creatorArn: ci, deployerArns: [ci], applying: false })).to.deep.equal([ci]);
    });

    it("refuses configured deployers that leave out the identity applying the policy, naming it and the line that adds it", () => {
        expect(() => planReaders({ callerArn: alice, creatorArn: ci, deployerArns: [ci], applying: true })).to.throw(
            `deployerArns (${ci}) leaves out ${alice}, which runs this: the plan bucket's policy would deny it the plan it writes. Add its role or user, for example: pulumi config set --path 'webstack:deployerArns[1]' arn:aws:iam::123456789012:role/admin`,
        );
    });
});

describe("planBucketPolicy", () => {
    const policy = JSON.parse(
        planBucketPolicy("arn:aws:s3:::plan", "arn:aws:iam::1:role/app", ["arn:aws:iam::1:user/ci", "arn:aws:iam::1:role/preview"]),
    ) as {
        Statement: {
            Sid: string;
            Effect: string;
            Action: string | string[];
            Resource: string | string[];
            Condition: Record<string, Record<string, unknown>>;
        }[];
    };

    it("denies every request over plain HTTP", () => {
        const [plain] = policy.Statement;
        expect(plain).to.deep.include({ Effect: "Deny", Action: "s3:*", Resource: ["arn:aws:s3:::plan", "arn:aws:s3:::plan/*"] });
        expect(plain.Condition).to.deep.equal({ Bool: { "aws:SecureTransport": "false" } });
    });

    it("denies reading an object, at its current version or at any other, to everyone but the app servers' role and the deployers", () => {
        const [, read] = policy.Statement;
        expect(read).to.deep.include({
            Effect: "Deny",
            Action: ["s3:GetObject", "s3:GetObjectVersion"],
            Resource: "arn:aws:s3:::plan/*",
        });
        expect(read.Condition).to.deep.equal({
            StringNotLike: { "aws:PrincipalArn": ["arn:aws:iam::1:role/app", "arn:aws:iam::1:user/ci", "arn:aws:iam::1:role/preview"] },
        });
    });
});

describe("appServerPolicy", () => {
    it("allows reading the plan's objects at the versions the index pins and the database's two secrets, and nothing else", () => {
        expect(JSON.parse(appServerPolicy("arn:aws:s3:::plan", ["arn:master", "arn:app"])).Statement).to.deep.equal([
            { Sid: "ReadPlan", Effect: "Allow", Action: "s3:GetObjectVersion", Resource: "arn:aws:s3:::plan/plan/*" },
            {
                Sid: "ReadDatabaseCredentials",
                Effect: "Allow",
                Action: "secretsmanager:GetSecretValue",
                Resource: ["arn:master", "arn:app"],
            },
        ]);
    });
});

describe("databaseMaintenanceWindow", () => {
    it("is an hour from the window's start in RDS's form, into the next day when it starts late", () => {
        expect(databaseMaintenanceWindow({ day: "Sun", hour: 3, minute: 0 })).to.equal("sun:03:00-sun:04:00");
        expect(databaseMaintenanceWindow({ day: "Sat", hour: 23, minute: 30 })).to.equal("sat:23:30-sun:00:30");
        expect(databaseMaintenanceWindow({ day: "Sun", hour: 23, minute: 0 })).to.equal("sun:23:00-mon:00:00");
    });
});

describe("checkedDatabaseMaintenanceWindow", () => {
    it("is Sunday 03:00-04:00 without a window", () => {
        expect(checkedDatabaseMaintenanceWindow(undefined)).to.equal("sun:03:00-sun:04:00");
    });

    it("takes an hour that ends as the daily backup starts or starts as it ends, and refuses any between", () => {
        expect(checkedDatabaseMaintenanceWindow("Mon 01:00")).to.equal("mon:01:00-mon:02:00");
        expect(checkedDatabaseMaintenanceWindow("Mon 02:30")).to.equal("mon:02:30-mon:03:30");
        for (const overlapping of ["Mon 01:01", "Mon 02:00", "Mon 02:29"]) {
            expect(() => checkedDatabaseMaintenanceWindow(overlapping), overlapping).to.throw(
                `maintenanceWindow is "${overlapping}"; the database's hour of maintenance from it would overlap its daily backup (02:00-02:30 UTC)`,
            );
        }
    });

    it("refuses what is not a day and a time", () => {
        expect(() => checkedDatabaseMaintenanceWindow("every Sunday")).to.throw(
            'maintenanceWindow is "every Sunday"; expected a day and a time',
        );
    });
});

describe("finalSnapshotName", () => {
    const madeAt = new Date("2026-12-04T16:09:05.123Z");

    it("is letters, digits and single hyphens, starting with a letter, and names when the database was made", () => {
        expect(finalSnapshotName("webstack", "dev", madeAt)).to.equal("webstack-dev-final-20261204t160905");
        expect(finalSnapshotName("2nd_site", "Prod..EU", madeAt)).to.equal("nd-site-prod-eu-final-20261204t160905");
    });

    it("differs for a database made a second later", () => {
        expect(finalSnapshotName("webstack", "dev", new Date(madeAt.getTime() + 1000))).to.not.equal(
            finalSnapshotName("webstack", "dev", madeAt),
        );
    });
});

describe("rdsCaBundle", () => {
    it("is a PEM bundle of AWS's RDS certificate authorities that the fleet step accepts", () => {
        const bundle = rdsCaBundle();
        expect(checkedCaBundle(bundle)).to.equal(bundle);
        expect(bundle.match(/-----BEGIN CERTIFICATE-----/g)?.length).to.be.above(10);
    });
});

describe("WebFleet under Pulumi mocks", () => {
    let WebFleet: typeof WebFleetClass;

    before(async () => {
        await installMocks();
        ({ WebFleet } = await import("../../../components/webFleet"));
    });

    const build = componentUnderMocks(
        "fleet",
        (name, overrides: Partial<WebFleetArgs>) =>
            new WebFleet(name, { domain: "example.com", provisioning: { release: RELEASE }, ...overrides }),
        (fleet) => fleet.groupName,
    );

    const group = (name: string, suffix: string) => resourceNamed("aws:ec2/securityGroup:SecurityGroup", `${name}-${suffix}`);
    type Rule = { fromPort: number; toPort: number; protocol: string; cidrBlocks?: string[]; securityGroups?: string[] };
    const rules = (resource: RecordedResource, direction: "ingress" | "egress") => resource.inputs[direction] as Rule[];
    /** What the mocks give the fleet `name`'s resources: ids, ARNs and the names Pulumi generates. */
    const mocked = {
        groupId: (name: string, suffix: string) => mockIdOf("aws:ec2/securityGroup:SecurityGroup", `${name}-${suffix}`),
        certificateArn: (name: string) => mockOutputOf("aws:acm/certificate:Certificate", `${name}-certificate`, "arn"),
        targetGroup: (name: string, output: "arn" | "arnSuffix") =>
            mockOutputOf("aws:lb/targetGroup:TargetGroup", `${name}-app-tg`, output),
        loadBalancer: (name: string, output: "name" | "dnsName" | "arnSuffix") =>
            mockOutputOf("aws:lb/loadBalancer:LoadBalancer", `${name}-lb`, output),
        launchTemplateId: (name: string) => mockIdOf("aws:ec2/launchTemplate:LaunchTemplate", `${name}-app`),
        profileArn: (name: string) => mockOutputOf("aws:iam/instanceProfile:InstanceProfile", `${name}-app-profile`, "arn"),
        roleArn: (name: string) => mockOutputOf("aws:iam/role:Role", `${name}-app-role`, "arn"),
        groupName: (name: string) => mockOutputOf("aws:autoscaling/group:Group", `${name}-app`, "name"),
        bucketName: (name: string) => mockOutputOf("aws:s3/bucket:Bucket", `${name}-plan`, "bucket"),
        database: (name: string, output: "endpoint" | "identifier" | "masterUserSecrets.0.secretArn") =>
            mockOutputOf("aws:rds/instance:Instance", `${name}-db`, output),
        appSecretArn: (name: string) => mockOutputOf("aws:secretsmanager/secret:Secret", `${name}-app-db-credentials`, "arn"),
        topicArn: (topic: string, region?: string) => mockOutputOf("aws:sns/topic:Topic", topic, "arn", region),
    };

    describe("network", () => {
        it("spreads over the default VPC's default subnets, one per zone, unless given subnets", async () => {
            let { name } = await build();
            expect(onlyResourceOfType("aws:autoscaling/group:Group").inputs.vpcZoneIdentifiers).to.deep.equal(DEFAULT_SUBNETS);
            expect(resourceNamed("aws:lb/loadBalancer:LoadBalancer", `${name}-lb`).inputs.subnets).to.deep.equal(DEFAULT_SUBNETS);
            expect(onlyResourceOfType("aws:rds/subnetGroup:SubnetGroup").inputs.subnetIds).to.deep.equal(DEFAULT_SUBNETS);
            expect(callsOf("aws:ec2/getSubnets:getSubnets")[0].filters).to.deep.include({ name: "default-for-az", values: ["true"] });
            expect(callsOf("aws:ec2/getSubnets:getSubnets")[0].filters, "only zones that offer the instance type").to.deep.include({
                name: "availability-zone",
                values: MOCK_OFFERING_ZONES,
            });
            expect(callsOf("aws:ec2/getInstanceTypeOfferings:getInstanceTypeOfferings")[0]).to.deep.include({
                locationType: "availability-zone",
                filters: [{ name: "instance-type", values: ["t3.micro"] }],
            });

            const given = ["subnet-0b2b2b2b2b2b2b2b2", "subnet-0a1a1a1a1a1a1a1a1"];
            ({ name } = await build({ subnetIds: given }));
            expect(onlyResourceOfType("aws:autoscaling/group:Group").inputs.vpcZoneIdentifiers).to.deep.equal(given);
            expect(callsOf("aws:ec2/getSubnets:getSubnets")).to.have.length(0);
        });

        it("lets the world reach the load balancer on 80 and 443 alone, and the load balancer reach the app servers on 80 alone", async () => {
            const { name } = await build();
            expect(rules(group(name, "lb-sg"), "ingress").map((rule) => [rule.fromPort, rule.cidrBlocks])).to.deep.equal([
                [80, ["0.0.0.0/0"]],
                [443, ["0.0.0.0/0"]],
            ]);
            expect(rules(group(name, "lb-sg"), "egress")).to.deep.equal([
                { description: "HTTP to the app servers", protocol: "tcp", fromPort: 80, toPort: 80, cidrBlocks: [MOCK_VPC_CIDR] },
            ]);
            const appIngress = rules(group(name, "app-sg"), "ingress");
            expect(appIngress).to.have.length(1);
            expect(appIngress[0]).to.deep.include({ fromPort: 80, toPort: 80, securityGroups: [mocked.groupId(name, "lb-sg")] });
            expect(appIngress[0].cidrBlocks).to.equal(undefined);
        });

        it("lets only the app servers reach the database, on 3306, and the database reach nothing", async () => {
            const { name } = await build();
            const database = group(name, "db-sg");
            expect(rules(database, "ingress")).to.deep.equal([
                {
                    description: "MariaDB from the app servers",
                    protocol: "tcp",
                    fromPort: 3306,
                    toPort: 3306,
                    securityGroups: [mocked.groupId(name, "app-sg")],
                },
            ]);
            expect(rules(database, "egress")).to.deep.equal([]);
            expect(onlyResourceOfType("aws:rds/instance:Instance").inputs.vpcSecurityGroupIds).to.deep.equal([
                mocked.groupId(name, "db-sg"),
            ]);
        });

        it("opens SSH nowhere: nobody needs to log in", async () => {
            await build();
            for (const resource of resourcesOfType("aws:ec2/securityGroup:SecurityGroup")) {
                for (const rule of rules(resource, "ingress")) {
                    expect(22 >= rule.fromPort && 22 <= rule.toPort, `${resource.name} opens 22`).to.equal(false);
                }
            }
            expect(onlyResourceOfType("aws:ec2/launchTemplate:LaunchTemplate").inputs.keyName).to.equal(undefined);
        });
    });

    describe("load balancer", () => {
        it("serves HTTPS with a modern TLS policy and the validated certificate, forwarding to the app servers", async () => {
            const { name } = await build();
            const https = resourceNamed("aws:lb/listener:Listener", `${name}-https`);
            expect(https.inputs).to.deep.include({ port: 443, protocol: "HTTPS", sslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06" });
            expect(https.inputs.certificateArn).to.equal(mocked.certificateArn(name));
            expect(https.inputs.defaultActions).to.deep.equal([{ type: "forward", targetGroupArn: mocked.targetGroup(name, "arn") }]);
            expect(resourceNamed("aws:lb/loadBalancer:LoadBalancer", `${name}-lb`).inputs).to.deep.include({
                internal: false,
                dropInvalidHeaderFields: true,
            });
        });

        it("closes idle connections before the app servers' nginx does, so that it never reuses one nginx is closing", async () => {
            const { name } = await build();
            const idleTimeout = resourceNamed("aws:lb/loadBalancer:LoadBalancer", `${name}-lb`).inputs.idleTimeout as number;
            expect(idleTimeout).to.be.below(CLIENT_KEEPALIVE_SECONDS);
            expect(renderSite({ domain: "example.com", tls: false, behindLoadBalancer: true })).to.contain(
                `keepalive_timeout ${CLIENT_KEEPALIVE_SECONDS}s;`,
            );
        });

        it("answers 503 with the maintenance page from rules in front of the forward during maintenance, the allowed blocks first, and has no such rule otherwise", async () => {
            await build();
            expect(resourcesOfType("aws:lb/listenerRule:ListenerRule")).to.deep.equal([]);
            const { name } = await build({ maintenance: { enabled: true, message: "Back soon.", allowedCidrs: ["203.0.113.7/32"] } });
            const rule = (suffix: string) => resourceNamed("aws:lb/listenerRule:ListenerRule", `${name}-${suffix}`).inputs;
            expect(rule("maintenance-allowed")).to.deep.include({
                priority: 1,
                conditions: [{ sourceIp: { values: ["203.0.113.7/32"] } }],
                actions: [
                    {
                        type: "forward",
                        targetGroupArn: mocked.targetGroup(name, "arn"),
                    },
                ],
            });
            expect(rule("maintenance-api")).to.deep.include({
                priority: 2,
                conditions: [{ pathPattern: { values: ["/api/*"] } }],
                actions: [
                    {
                        type: "fixed-response",
                        fixedResponse: {
                            statusCode: "503",
                            contentType: "application/json",
                            messageBody: renderMaintenanceAnswer("Back soon."),
                        },
                    },
                ],
            });
            expect(rule("maintenance")).to.deep.include({
                priority: 3,
                conditions: [{ pathPattern: { values: ["/*"] } }],
                actions: [
                    {
                        type: "fixed-response",
                        fixedResponse: { statusCode: "503", contentType: "text/html", messageBody: renderMaintenancePage("Back soon.") },
                    },
                ],
            });
        });

        it("redirects HTTP to HTTPS with a 301", async () => {
            const { name } = await build();
            expect(resourceNamed("aws:lb/listener:Listener", `${name}-http`).inputs.defaultActions).to.deep.equal([
                { type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } },
            ]);
        });

        it("checks that an app instance answers, not the database (a failover must not replace every server), and lets a leaving server drain as long as the app does", async () => {
            await build();
            const targets = onlyResourceOfType("aws:lb/targetGroup:TargetGroup");
            expect(targets.inputs).to.deep.include({ port: 80, protocol: "HTTP", deregistrationDelay: APP_STOP_TIMEOUT_SECONDS });
            expect(targets.inputs.healthCheck).to.deep.include({
                path: "/webstack-alive",
                matcher: "200",
                healthyThreshold: 2,
                unhealthyThreshold: 2,
            });
        });

        it("has ACM certify www, validated by a record in the zone, and the apex too when asked", async () => {
            let { name } = await build();
            expect(onlyResourceOfType("aws:acm/certificate:Certificate").inputs).to.deep.include({
                domainName: "www.example.com",
                subjectAlternativeNames: [],
                validationMethod: "DNS",
            });
            const validation = resourceNamed("aws:route53/record:Record", `${name}-certificate-validation-www`);
            expect(validation.inputs).to.deep.include({
                zoneId: MOCK_ZONE_ID,
                name: "_validation.www.example.com.",
                type: "CNAME",
                records: ["_token.www.example.com.acm-validations.aws."],
            });

            ({ name } = await build({ createApexRecord: true }));
            expect(onlyResourceOfType("aws:acm/certificate:Certificate").inputs.subjectAlternativeNames).to.deep.equal(["example.com"]);
            expect(resourceNamed("aws:route53/record:Record", `${name}-certificate-validation-apex`).inputs.name).to.equal(
                "_validation.example.com.",
            );
            expect(onlyResourceOfType("aws:acm/certificateValidation:CertificateValidation").inputs.validationRecordFqdns).to.deep.equal([
                "_validation.www.example.com.",
                "_validation.example.com.",
            ]);
        });

        it("points www, and the apex when asked, at the load balancer as alias records that follow its health, taking over a single server's record", async () => {
            let { name } = await build();
            const www = resourceNamed("aws:route53/record:Record", `${name}-www-record`);
            expect(www.inputs).to.deep.include({ zoneId: MOCK_ZONE_ID, name: "www.example.com", type: "A", allowOverwrite: true });
            expect(www.inputs.aliases).to.deep.equal([
                { name: mocked.loadBalancer(name, "dnsName"), zoneId: "Z215JYRZR1TBD5", evaluateTargetHealth: true },
            ]);
            expect(resources().some((resource) => resource.name === `${name}-apex-record`)).to.equal(false);

            ({ name } = await build({ createApexRecord: true }));
            expect(resourceNamed("aws:route53/record:Record", `${name}-apex-record`).inputs.name).to.equal("example.com");
        });
    });

    describe("app servers", () => {
        it("boot the newest official Debian 13 image with IMDSv2 only and an encrypted disk, in the app servers' group alone", async () => {
            const { name } = await build();
            const template = onlyResourceOfType("aws:ec2/launchTemplate:LaunchTemplate");
            expect(callsOf("aws:ec2/getAmi:getAmi")[0].filters).to.deep.include({ name: "name", values: ["debian-13-amd64-*"] });
            expect(template.inputs).to.deep.include({ imageId: MOCK_AMI_ID, instanceType: "t3.micro" });
            expect(
                template.inputs.networkInterfaces,
                "a public address whatever the subnet's default, and the app servers' group",
            ).to.deep.equal([
                {
                    deviceIndex: 0,
                    associatePublicIpAddress: "true",
                    securityGroups: [mocked.groupId(name, "app-sg")],
                    deleteOnTermination: "true",
                },
            ]);
            expect(template.inputs.metadataOptions).to.deep.equal({
                httpEndpoint: "enabled",
                httpTokens: "required",
                httpPutResponseHopLimit: 1,
            });
            expect(template.inputs.blockDeviceMappings).to.deep.equal([
                { deviceName: "/dev/xvda", ebs: { volumeType: "gp3", volumeSize: 16, encrypted: "true", deleteOnTermination: "true" } },
            ]);
            expect(template.inputs.iamInstanceProfile).to.deep.equal({ arn: mocked.profileArn(name) });
        });

        it("keep booting the running servers' image while the instance type keeps its architecture, and the newest Debian image of the other one when it changes", async () => {
            mockRunningInstance.instanceType = "t3.micro";
            mockRunningInstance.ami = "ami-0a1b2c3d4e5f60001";
            try {
                const { name } = await build({ instanceType: "t3.small" });
                expect(callsOf("aws:ec2/getInstances:getInstances")[0]).to.deep.include({
                    instanceTags: { Name: `${name}-app-server`, stack: "dev" },
                });
                const template = () => onlyResourceOfType("aws:ec2/launchTemplate:LaunchTemplate");
                expect(template().inputs.imageId).to.equal("ami-0a1b2c3d4e5f60001");
                expect(template().ignoreChanges, "the image follows the architecture").to.deep.equal([]);
                await build({ instanceType: "t4g.small" });
                expect(callsOf("aws:ec2/getAmi:getAmi")[0].filters).to.deep.include({ name: "architecture", values: ["arm64"] });
                expect(template().inputs.imageId).to.equal(MOCK_AMI_ID);
            } finally {
                delete mockRunningInstance.instanceType;
                delete mockRunningInstance.ami;
            }
        });

        it("run in a group of two to four by default, replaced when the load balancer finds them unhealthy", async () => {
            const { name } = await build();
            const autoScaling = onlyResourceOfType("aws:autoscaling/group:Group");
            expect(autoScaling.inputs).to.deep.include({ minSize: 2, maxSize: 4, healthCheckType: "ELB" });
            expect(autoScaling.inputs.targetGroupArns).to.deep.equal([mocked.targetGroup(name, "arn")]);
            expect(autoScaling.inputs.launchTemplate).to.deep.equal({ id: mocked.launchTemplateId(name), version: "1" });
            expect(autoScaling.dependsOn).to.include(`${name}-db`);
        });

        describe("pulumi up's wait for them, as the provider waits (test/support/autoscalingCapacityWait.ts)", () => {
            const groupArgs = async (minAppServers: number) => {
                await build({ minAppServers, maxAppServers: 8 });
                return onlyResourceOfType("aws:autoscaling/group:Group").inputs as unknown as CapacityWaitArgs;
            };

            it("lets a new fleet's up succeed once the group's minimum pass the load balancer's health check, and fails it when they do not", async () => {
                const args = await groupArgs(3);
                expect(args.waitForCapacityTimeout).to.equal("600s");
                expect(createWaitMet(args, { inService: 3, healthyTargets: 3 })).to.equal(true);
                expect(createWaitMet(args, { inService: 3, healthyTargets: 2 })).to.equal(false);
            });

            it("lets an up that lowers minAppServers from 3 to 2 succeed with the three servers still running", async () => {
                expect(minSizeUpdateWaitMet(await groupArgs(2), 3, { inService: 3, healthyTargets: 3 })).to.equal(true);
            });

            it("lets an up that raises minAppServers succeed while target tracking keeps more servers running", async () => {
                expect(minSizeUpdateWaitMet(await groupArgs(3), 4, { inService: 4, healthyTargets: 4 })).to.equal(true);
            });
        });

        it("are deployed by a rolling instance refresh that never lowers healthy capacity", async () => {
            await build();
            expect(onlyResourceOfType("aws:autoscaling/group:Group").inputs.instanceRefresh).to.deep.equal({
                strategy: "Rolling",
                preferences: { minHealthyPercentage: 100, maxHealthyPercentage: 150, instanceWarmup: "60", skipMatching: true },
            });
        });

        it("hold up until each release is live on the whole group, within a bound, and fail it when the refresh does not succeed", async () => {
            const { name } = await build({ maxAppServers: 6 });
            const wait = resourceNamed("command:local:Command", `${name}-release-live`);
            expect(wait.dependsOn).to.include(`${name}-app`);
            expect(wait.inputs.triggers).to.deep.equal(["1"]);
            expect(wait.inputs.create).to.equal(
                renderReleaseWait({
                    group: mocked.groupName(name),
                    region: "eu-central-1",
                    timeoutSeconds: releaseWaitSeconds({ max: 6 }),
                    pollSeconds: RELEASE_POLL_SECONDS,
                }),
            );
        });

        it("scale out and in to keep the average CPU at half", async () => {
            const { name } = await build({ minAppServers: 3, maxAppServers: 8 });
            expect(onlyResourceOfType("aws:autoscaling/group:Group").inputs).to.deep.include({ minSize: 3, maxSize: 8 });
            const policy = onlyResourceOfType("aws:autoscaling/policy:Policy");
            expect(policy.inputs).to.deep.include({ autoscalingGroupName: mocked.groupName(name), policyType: "TargetTrackingScaling" });
            expect(policy.inputs.targetTrackingConfiguration).to.deep.equal({
                predefinedMetricSpecification: { predefinedMetricType: "ASGAverageCPUUtilization" },
                targetValue: 50,
            });
        });

        it("have a role that may read the plan and the database's two secrets, and nothing else", async () => {
            const { name } = await build();
            const trust = JSON.parse(resourceNamed("aws:iam/role:Role", `${name}-app-role`).inputs.assumeRolePolicy as string);
            expect(trust.Statement[0].Principal).to.deep.equal({ Service: "ec2.amazonaws.com" });
            const policy = JSON.parse(onlyResourceOfType("aws:iam/rolePolicy:RolePolicy").inputs.policy as string);
            expect(policy).to.deep.equal(
                JSON.parse(
                    appServerPolicy(`arn:aws:s3:::${mocked.bucketName(name)}`, [
                        mocked.database(name, "masterUserSecrets.0.secretArn"),
                        mocked.appSecretArn(name),
                    ]),
                ),
            );
            expect(onlyResourceOfType("aws:ec2/launchTemplate:LaunchTemplate").dependsOn).to.include(`${name}-app-policy`);
        });
    });

    describe("first boot", () => {
        const objects = () => resourcesOfType("aws:s3/bucketObjectv2:BucketObjectv2");
        const userDataOf = () =>
            Buffer.from(onlyResourceOfType("aws:ec2/launchTemplate:LaunchTemplate").inputs.userData as string, "base64").toString("utf8");
        const firstBootScript = (userData: string) =>
            Buffer.from(/^ {4}content: (\S+)$/m.exec(userData)?.[1] ?? "", "base64").toString("utf8");

        it("puts one object per step of the fleet's plan in the bucket, and an index that pins their versions in order", async () => {
            const { name } = await build();
            const steps = buildFleetPlan({ release: RELEASE }).map((step) => step.name);
            expect(objects().map((object) => object.name)).to.have.members([
                ...steps.map((step) => `${name}-plan-${step}`),
                `${name}-plan-index`,
            ]);
            const index = resourceNamed("aws:s3/bucketObjectv2:BucketObjectv2", `${name}-plan-index`);
            expect(index.inputs.key).to.equal("plan/index");
            const lines = (index.inputs.content as string).trim().split("\n");
            expect(lines.map((line) => line.split(" ")[1])).to.deep.equal(steps);
            for (const line of lines) {
                const [, step, key, versionId] = line.split(" ");
                const object = resourceNamed("aws:s3/bucketObjectv2:BucketObjectv2", `${name}-plan-${step}`);
                expect(object.inputs.key).to.equal(`plan/${step}`);
                expect(versionId).to.equal(mockObjectVersion(object.inputs));
                expect(key).to.equal(object.inputs.key);
            }
            expect(index.dependsOn).to.include.members(steps.map((step) => `${name}-plan-${step}`));
        });

        it("keeps every version a rollback may need: objects put only once versioning is on, and never deleted by a deploy", async () => {
            const { name } = await build();
            for (const object of objects()) {
                expect(object.dependsOn, object.name).to.include(`${name}-plan-versioning`);
                expect(object.retainOnDelete, object.name).to.equal(true);
            }
        });

        it("renders the fleet step with the database's endpoint, its secret, the region and the VPC's block", async () => {
            const { name } = await build();
            const fleetStep = resourceNamed("aws:s3/bucketObjectv2:BucketObjectv2", `${name}-plan-fleet`).inputs.content as string;
            expect(fleetStep).to.contain(`Join the fleet: the database at ${mocked.database(name, "endpoint")}`);
            expect(fleetStep).to.contain(mocked.database(name, "masterUserSecrets.0.secretArn"));
            expect(fleetStep).to.contain("https://secretsmanager.eu-central-1.amazonaws.com");
            expect(fleetStep).to.contain(`set_real_ip_from ${MOCK_VPC_CIDR};`);
        });

        it("keeps the app's environment in its step's object alone, as a secret, while its key stays plain", async () => {
            const { name } = await build({ provisioning: { release: RELEASE, appEnvironment: { API_TOKEN: "plain-t0ken-value" } } });
            const holding = objects().filter((object) => String(object.inputs.content).includes("plain-t0ken-value"));
            expect(holding.map((object) => object.name)).to.deep.equal([`${name}-plan-app-environment`]);
            expect(holding[0].secretInputs).to.deep.equal(["content"]);
            expect(objects().filter((object) => object.secretInputs.length > 0)).to.have.length(1);
            expect(userDataOf()).not.to.contain("plain-t0ken-value");
        });

        it("uploads the release as the file itself", async () => {
            const { name } = await build();
            const upload = resourceNamed("aws:s3/bucketObjectv2:BucketObjectv2", `${name}-plan-upload-release`);
            expect(upload.inputs.content).to.equal(undefined);
            expect(upload.inputs.source).to.not.equal(undefined);
        });

        it("carries, as user data well under EC2's 16 KiB, the first-boot script naming the bucket and the index", async () => {
            const { name } = await build();
            const userData = userDataOf();
            expect(Buffer.byteLength(userData)).to.be.below(USER_DATA_MAX_BYTES / 2);
            const script = firstBootScript(userData);
            const index = resourceNamed("aws:s3/bucketObjectv2:BucketObjectv2", `${name}-plan-index`);
            expect(script).to.contain(`export S3_ENDPOINT='https://${mocked.bucketName(name)}.s3.eu-central-1.amazonaws.com'`);
            expect(script).to.contain(`export INDEX_VERSION_ID='${mockObjectVersion(index.inputs)}'`);
        });

        it("keeps the plan in a versioned, encrypted, private bucket that only the app servers' role and the deployer may read", async () => {
            const { name } = await build();
            expect(onlyResourceOfType("aws:s3/bucketVersioning:BucketVersioning").inputs.versioningConfiguration).to.deep.equal({
                status: "Enabled",
            });
            expect(
                onlyResourceOfType("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration").inputs.rules,
            ).to.deep.equal([{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" }, bucketKeyEnabled: true }]);
            expect(onlyResourceOfType("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs).to.deep.include({
                blockPublicAcls: true,
                blockPublicPolicy: true,
                ignorePublicAcls: true,
                restrictPublicBuckets: true,
            });
            expect(JSON.parse(onlyResourceOfType("aws:s3/bucketPolicy:BucketPolicy").inputs.policy as string)).to.deep.equal(
                JSON.parse(
                    planBucketPolicy(
                        `arn:aws:s3:::${mocked.bucketName(name)}`,
                        mocked.roleArn(name),
                        principalArnPatterns(MOCK_DEPLOYER_ARN),
                    ),
                ),
            );
        });

        it("records the bucket's creator in a tag that later runs leave as it was, for the policy to keep naming", async () => {
            await build();
            const bucket = onlyResourceOfType("aws:s3/bucket:Bucket");
            expect((bucket.inputs.tags as Record<string, string>)[PLAN_BUCKET_CREATOR_TAG]).to.equal(
                "arn:aws:iam::123456789012:role/webstack-deploy",
            );
            expect(bucket.ignoreChanges).to.deep.equal([`tags["${PLAN_BUCKET_CREATOR_TAG}"]`]);
        });

        it("lets the configured deployers alone read the plan besides the app servers, whoever of them runs this, so that a second identity meets no diff", async () => {
            const deployers = ["arn:aws:iam::123456789012:role/webstack-deploy", "arn:aws:iam::123456789012:role/webstack-preview"];
            const { name } = await build({ deployerArns: deployers });
            expect(JSON.parse(onlyResourceOfType("aws:s3/bucketPolicy:BucketPolicy").inputs.policy as string)).to.deep.equal(
                JSON.parse(planBucketPolicy(`arn:aws:s3:::${mocked.bucketName(name)}`, mocked.roleArn(name), deployers)),
            );
        });
    });

    describe("database", () => {
        it("is RDS MariaDB, Multi-AZ, encrypted, private, backed up for a week, protected from deletion and snapshotted when deleted", async () => {
            const { name } = await build();
            const database = onlyResourceOfType("aws:rds/instance:Instance");
            expect(database.inputs).to.deep.include({
                engine: "mariadb",
                engineVersion: "11.4",
                instanceClass: "db.t4g.micro",
                multiAz: true,
                storageEncrypted: true,
                publiclyAccessible: false,
                backupRetentionPeriod: 7,
                deletionProtection: true,
                skipFinalSnapshot: false,
                dbName: "webstack",
            });
            expect(database.inputs.finalSnapshotIdentifier).to.match(new RegExp(`^${name}-dev-final-\\d{8}t\\d{6}$`));
        });

        it("leaves the changes that would restart it (its class, above all) for its weekly maintenance window, unless told to apply them now", async () => {
            await build({ databaseInstanceClass: "db.r7g.large" });
            const database = onlyResourceOfType("aws:rds/instance:Instance");
            expect(database.inputs).to.deep.include({ applyImmediately: false, maintenanceWindow: "sun:03:00-sun:04:00" });
            await build({ databaseInstanceClass: "db.r7g.large", databaseApplyImmediately: true });
            expect(onlyResourceOfType("aws:rds/instance:Instance").inputs.applyImmediately).to.equal(true);
        });

        it("takes its hour of maintenance from maintenanceWindow", async () => {
            await build({ maintenanceWindow: "wed 04:30" });
            expect(onlyResourceOfType("aws:rds/instance:Instance").inputs).to.deep.include({
                maintenanceWindow: "wed:04:30-wed:05:30",
                backupWindow: "02:00-02:30",
            });
        });

        it("keeps automated backups, the window of a point-in-time restore, as many days as databaseBackupRetentionDays says", async () => {
            await build({ databaseBackupRetentionDays: 30 });
            expect(onlyResourceOfType("aws:rds/instance:Instance").inputs.backupRetentionPeriod).to.equal(30);
        });

        it("is protected in Pulumi too, and keeps the final snapshot's name it was made with, so that no destroy meets an earlier one's", async () => {
            await build();
            const database = onlyResourceOfType("aws:rds/instance:Instance");
            expect(database.protect).to.equal(true);
            expect(database.ignoreChanges).to.deep.equal(["finalSnapshotIdentifier"]);
        });

        it("has its master password made and kept by AWS in Secrets Manager, never by the program", async () => {
            await build();
            const database = onlyResourceOfType("aws:rds/instance:Instance");
            expect(database.inputs.manageMasterUserPassword).to.equal(true);
            expect(database.inputs.password).to.equal(undefined);
        });

        it("gives the app a user of its own: a generated password in a secret the stack makes, never the master's", async () => {
            const { name } = await build();
            const password = onlyResourceOfType("random:index/randomPassword:RandomPassword");
            expect(password.inputs).to.deep.include({ length: 32, special: false });
            const value = onlyResourceOfType("aws:secretsmanager/secretVersion:SecretVersion");
            expect(value.secretInputs).to.deep.equal(["secretString"]);
            expect(JSON.parse(value.inputs.secretString as string)).to.deep.equal({
                username: "webstack_app",
                password: "generated-password-of-the-mock",
            });
            const fleetStep = resourceNamed("aws:s3/bucketObjectv2:BucketObjectv2", `${name}-plan-fleet`).inputs.content as string;
            expect(fleetStep).to.contain(mocked.appSecretArn(name));
            expect(fleetStep).not.to.contain("generated-password-of-the-mock");
            expect(onlyResourceOfType("aws:autoscaling/group:Group").dependsOn).to.include(`${name}-app-db-credentials`);
        });

        it("refuses connections without TLS", async () => {
            await build();
            const parameters = onlyResourceOfType("aws:rds/parameterGroup:ParameterGroup");
            expect(parameters.inputs.family).to.equal("mariadb11.4");
            expect(parameters.inputs.parameters).to.deep.equal([{ name: "require_secure_transport", value: "1" }]);
        });
    });

    describe("alerts", () => {
        it("creates no topic, health check or alarm without an alert email", async () => {
            await build();
            expect(alertResourceNames()).to.deep.equal([]);
        });

        it("checks the release's health path at https://www.<domain> from Route53, and mails when servers, answers or the database fail and recover", async () => {
            const { name } = await build({ alertEmail: "ops@example.com" });
            expect(onlyResourceOfType("aws:route53/healthCheck:HealthCheck").inputs).to.deep.include({
                type: "HTTPS",
                fqdn: "www.example.com",
                port: 443,
                resourcePath: "/health",
            });
            expect(
                resourcesOfType("aws:sns/topicSubscription:TopicSubscription").map((subscription) => subscription.inputs.endpoint),
            ).to.deep.equal(["ops@example.com", "ops@example.com"]);

            const alarms = Object.fromEntries(
                resourcesOfType(ALARM_TYPE).map((alarm) => [alarm.name.slice(name.length + 1), alarm.inputs]),
            );
            const loadBalancer = { LoadBalancer: mocked.loadBalancer(name, "arnSuffix") };
            expect(Object.keys(alarms).sort()).to.deep.equal([
                "app-errors-alarm",
                "database-cpu-alarm",
                "database-cpu-credits-alarm",
                "database-storage-alarm",
                "load-balancer-errors-alarm",
                "site-down-alarm",
                "unhealthy-servers-alarm",
            ]);
            expect(alarms["unhealthy-servers-alarm"].dimensions).to.deep.equal({
                ...loadBalancer,
                TargetGroup: mocked.targetGroup(name, "arnSuffix"),
            });
            expect(alarms["app-errors-alarm"]).to.deep.include({
                metricName: "HTTPCode_Target_5XX_Count",
                statistic: "Sum",
                dimensions: loadBalancer,
            });
            expect(alarms["load-balancer-errors-alarm"]).to.deep.include({
                metricName: "HTTPCode_ELB_5XX_Count",
                dimensions: loadBalancer,
            });
            expect(alarms["database-storage-alarm"]).to.deep.include({
                namespace: "AWS/RDS",
                dimensions: { DBInstanceIdentifier: mocked.database(name, "identifier") },
            });
            for (const [alarmName, alarm] of Object.entries(alarms)) {
                const topic =
                    alarmName === "site-down-alarm"
                        ? mocked.topicArn(`${name}-alerts-us-east-1`, "us-east-1")
                        : mocked.topicArn(`${name}-alerts`);
                expect(alarm.alarmActions, alarmName).to.deep.equal([topic]);
                expect(alarm.okActions, alarmName).to.deep.equal(alarm.alarmActions);
            }
        });

        it("starts checking the site only once the group's first servers pass the load balancer's check, not while RDS is still being created", async () => {
            const { name } = await build({ alertEmail: "ops@example.com" });
            expect(onlyResourceOfType("aws:route53/healthCheck:HealthCheck").dependsOn).to.include(`${name}-app`);
        });

        it("watches the database's CPU credits on burstable classes only", async () => {
            const { name } = await build({ alertEmail: "ops@example.com", databaseInstanceClass: "db.r7g.large" });
            expect(resourcesOfType(ALARM_TYPE).map((alarm) => alarm.name)).not.to.include(`${name}-database-cpu-credits-alarm`);
        });
    });

    describe("outputs", () => {
        it("give the https url, the load balancer's and the group's names, and the database's endpoint", async () => {
            const { component: fleet, name } = await build();
            expect(await valueOf(fleet.url)).to.equal("https://www.example.com");
            expect(await valueOf(fleet.loadBalancerName)).to.equal(mocked.loadBalancer(name, "name"));
            expect(await valueOf(fleet.groupName)).to.equal(mocked.groupName(name));
            expect(await valueOf(fleet.databaseEndpoint)).to.equal(mocked.database(name, "endpoint"));
        });
    });

    describe("bad settings", () => {
        it("fail before anything is created, naming the setting and the fix", () => {
            resetRecords();
            const args = { domain: "example.com", provisioning: { release: RELEASE } };
            expect(() => new WebFleet("one-server", { ...args, minAppServers: 1 })).to.throw(
                pulumi.ResourceError,
                /minAppServers is 1; expected a whole number from 2 to 20/,
            );
            expect(() => new WebFleet("bad-domain", { ...args, domain: "www.example.com" })).to.throw(
                pulumi.ResourceError,
                /starts with "www."/,
            );
            expect(() => new WebFleet("bad-release", { ...args, provisioning: { release: { ...RELEASE, id: "a b" } } })).to.throw(
                pulumi.ResourceError,
                /provisioning: release.id is "a b"; expected 1 to 64 letters/,
            );
            expect(
                () => new WebFleet("bad-env", { ...args, provisioning: { release: RELEASE, appEnvironment: { DB_HOST: "x" } } }),
            ).to.throw(pulumi.ResourceError, /DB_HOST is set by webstack/);
            expect(() => new WebFleet("bad-retention", { ...args, databaseBackupRetentionDays: 36 })).to.throw(
                pulumi.ResourceError,
                /databaseBackupRetentionDays is 36; expected a whole number from 1 to 35, for example 7/,
            );
            expect(() => new WebFleet("webstack-production-eu", args)).to.throw(
                pulumi.ResourceError,
                /the fleet's name "webstack-production-eu" is 22 characters; .* ELB takes 32 at most, so the name takes 17 at most, for example "webstack"/,
            );
            // ELB's names take letters, digits and hyphens; RDS's identifiers a letter first and no two hyphens in a row.
            for (const name of ["shop_prod", "1shop", "shop--prod", "shop-"]) {
                expect(() => new WebFleet(name, args), name).to.throw(
                    pulumi.ResourceError,
                    new RegExp(`the fleet's name "${name}" .* a letter, then letters, digits and single hyphens, not one last`),
                );
            }
            expect(
                () => new WebFleet("bad-maintenance", { ...args, maintenance: { enabled: true, allowedCidrs: ["203.0.113.7"] } }),
            ).to.throw(
                pulumi.ResourceError,
                /maintenance.allowedCidrs has "203.0.113.7", which is not a CIDR block; expected for example 203.0.113.7\/32/,
            );
            const sixBlocks = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32"];
            expect(() => new WebFleet("many-allowed", { ...args, maintenance: { allowedCidrs: sixBlocks } })).to.throw(
                pulumi.ResourceError,
                /maintenance.allowedCidrs has 6 blocks; the load balancer's rule takes 5 at most/,
            );
            expect(resources().filter((resource) => !resource.type.startsWith("webstack:"))).to.deep.equal([]);
        });
    });
});
