import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { installMocks, MOCK_PUBLIC_IP, mockOutputOf, resetRecords, resources, settle, valueOf } from "../../support/pulumiMocks";
import { devStackConfig } from "../../support/devStack";
import { buildPlan, stepScript } from "../../../provisioning";
import { stepHoldsSecrets } from "../../../provisioning/plan";
import { scriptSourcingLibrary } from "../../../components/shippedScripts";
import { identityTrigger } from "../../../components/remoteProvisioner";
import { scriptRunBy, scriptRunByStep } from "../../support/shippedScripts";
import { buildRelease } from "../../../release/build";
import { parseStackConfig, rawStackConfig } from "../../../config/stackConfig";

type StackOutputs = Record<string, string | pulumi.Output<string>>;
type Program = () => Promise<StackOutputs>;

const PRIVATE_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\ntest\n-----END OPENSSH PRIVATE KEY-----";

async function runProgram(config: Record<string, string>): Promise<Record<string, string>> {
    resetRecords();
    pulumi.runtime.setAllConfig(
        config,
        Object.keys(config).filter((key) => key.endsWith("sshPrivateKey")),
    );
    const program = (await import("../../../index")).default as unknown as Program;
    const outputs = await program();
    const values: Record<string, string> = {};
    for (const [key, value] of Object.entries(outputs)) {
        values[key] = typeof value === "string" ? value : await valueOf(value);
    }
    await settle();
    return values;
}

function remoteSteps() {
    return resources().filter((resource) => resource.type.startsWith("command:remote:"));
}

describe("the Pulumi program (index.ts) under mocks", function () {
    this.timeout(120_000);

    before(installMocks);

    it("builds the whole stack from the committed dev config", async () => {
        const outputs = await runProgram({ ...devStackConfig(), "webstack:sshPrivateKey": PRIVATE_KEY });
        expect(outputs).to.deep.include({
            url: "http://www.example.com",
            hostName: "www.example.com",
            publicIp: MOCK_PUBLIC_IP,
            sshCommand: `ssh admin@${MOCK_PUBLIC_IP}`,
        });
        const types = resources().map((resource) => resource.type);
        for (const type of [
            "webstack:index:WebServer",
            "webstack:index:RemoteProvisioner",
            "aws:ec2/securityGroup:SecurityGroup",
            "aws:ec2/keyPair:KeyPair",
            "aws:ec2/instance:Instance",
            "aws:ec2/eip:Eip",
            "aws:route53/record:Record",
        ]) {
            expect(types, type).to.include(type);
        }
    });

    it("sends the full plan to the server, step by step, in plan order", async () => {
        const config: Record<string, string> = { ...devStackConfig(), "webstack:sshPrivateKey": PRIVATE_KEY };
        await runProgram(config);
        const { raw, hasPrivateKey } = rawStackConfig(config);
        const settings = parseStackConfig(raw, hasPrivateKey);
        const plan = buildPlan({
            appInstances: settings.appInstances,
            release: await buildRelease(),
            sshAccess: { user: settings.sshUser },
        });
        const steps = remoteSteps();
        expect(steps.map((step) => step.name)).to.deep.equal(
            ["scripts", ...plan.map((step) => step.name)].map((name) => `webstack-provision-${name}`),
        );
        const inputs = {
            domain: settings.domain,
            authorizedKeys: [config["webstack:sshPublicKey"]],
            backupBucket: {
                bucket: mockOutputOf("aws:s3/bucket:Bucket", "webstack-backups", "bucket"),
                prefix: "dev-webstack",
                region: "eu-central-1",
            },
        };
        const scripts = plan.flatMap((step) =>
            step.kind !== "run"
                ? []
                : [
                      stepHoldsSecrets(step)
                          ? scriptSourcingLibrary(step.name, stepScript(step, inputs), "webstack-provision-scripts")
                          : stepScript(step, inputs),
                  ],
        );
        expect(
            await Promise.all(steps.filter((step) => step.type === "command:remote:Command").map((step) => scriptRunBy(step))),
        ).to.deep.equal(scripts);
    });

    it("turns HTTPS on with an ACME email: an https url, and certbot only after the DNS record", async () => {
        const outputs = await runProgram({
            ...devStackConfig(),
            "webstack:sshPrivateKey": PRIVATE_KEY,
            "webstack:acmeEmail": "ops@example.com",
        });
        expect(outputs.url).to.equal("https://www.example.com");
        const certbot = remoteSteps().find((step) => step.name === "webstack-provision-certbot");
        expect(certbot?.dependsOn).to.include("webstack-www-record");
        expect(await scriptRunByStep("webstack-provision-certbot")).to.contain("export CERT_DOMAINS='www.example.com'\n");
    });

    it("passes webstack:appEnvironment to the app as a secret, in the app-environment step alone", async () => {
        await runProgram({
            ...devStackConfig(),
            "webstack:sshPrivateKey": PRIVATE_KEY,
            "webstack:appEnvironment": '{"API_TOKEN":"config-t0ken-value"}',
        });
        const holding = remoteSteps().filter((step) => String(step.inputs.stdin).includes('API_TOKEN="config-t0ken-value"'));
        expect(holding.map((step) => step.name)).to.deep.equal(["webstack-provision-app-environment"]);
        expect(holding[0].secretInputs).to.include("stdin");
    });

    it("fails before creating any resource when the config is invalid", async () => {
        let failure: unknown;
        try {
            await runProgram({ ...devStackConfig(), "webstack:sshPrivateKey": PRIVATE_KEY, "webstack:appInstances": "40" });
        } catch (error) {
            failure = error;
        }
        expect(String(failure)).to.include("webstack:appInstances");
        expect(resources()).to.have.length(0);
    });

    it("puts the server in maintenance from webstack:maintenance, with its message, and lets the allowed blocks past it in nginx's site", async () => {
        await runProgram({
            ...devStackConfig(),
            "webstack:sshPrivateKey": PRIVATE_KEY,
            "webstack:maintenance": "true",
            "webstack:maintenanceMessage": "Back at 15:00 UTC.",
            "webstack:maintenanceAllowedCidrs": '["203.0.113.7/32"]',
        });
        const maintenance = await scriptRunByStep("webstack-provision-maintenance");
        expect(maintenance).to.contain("export MAINTENANCE='on'\n");
        expect(maintenance).to.contain("export MAINTENANCE_MESSAGE='Back at 15:00 UTC.'\n");
        expect(await scriptRunByStep("webstack-provision-nginx")).to.contain("    203.0.113.7/32 1;\n");
    });

    it("fails before creating any resource when a maintenance block is not a CIDR block", async () => {
        const failure = await runProgram({
            ...devStackConfig(),
            "webstack:sshPrivateKey": PRIVATE_KEY,
            "webstack:maintenanceAllowedCidrs": '["office"]',
        }).then(
            () => "declared",
            (error: unknown) => String(error),
        );
        expect(failure).to.include(
            'webstack:maintenanceAllowedCidrs has "office", which is not a CIDR block; expected for example 203.0.113.7/32',
        );
        expect(resources()).to.have.length(0);
    });

    it("configures an existing server without creating any AWS resource", async () => {
        const outputs = await runProgram({
            "webstack:domain": "example.org",
            "webstack:existingServerHost": "198.18.9.2",
            "webstack:sshPrivateKey": PRIVATE_KEY,
        });
        expect(resources().filter((resource) => resource.type.startsWith("aws:"))).to.deep.equal([]);
        expect(outputs).to.deep.include({ url: "http://www.example.org", publicIp: "198.18.9.2" });
        const steps = remoteSteps();
        expect(steps.length).to.be.greaterThan(0);
        for (const step of steps) {
            expect(step.inputs.connection).to.include({ host: "198.18.9.2", user: "admin" });
        }
    });

    it("runs every step again, uploads included, on a new server at the same address: one with another host key", async () => {
        const HOST_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJ6Tq9CnlQxCPVmZ2Ukl2mBv8m4l3k0p0Jf7b1wQn2cX";
        await runProgram({
            "webstack:domain": "example.org",
            "webstack:existingServerHost": "198.18.9.2",
            "webstack:sshPrivateKey": PRIVATE_KEY,
            "webstack:sshHostKey": HOST_KEY,
        });
        const steps = remoteSteps();
        expect(steps.map((step) => step.type)).to.include("command:remote:CopyToRemote");
        for (const step of steps) {
            expect(step.inputs.triggers, step.name).to.deep.equal([identityTrigger(HOST_KEY)]);
        }
    });

    it("creates the infrastructure only when provisioning is off", async () => {
        await runProgram({ ...devStackConfig(), "webstack:provision": "false" });
        expect(remoteSteps()).to.deep.equal([]);
        expect(resources().map((resource) => resource.type)).to.include("aws:ec2/instance:Instance");
    });

    it("builds the ha topology from webstack:topology ha: a fleet behind a load balancer, nothing over SSH", async () => {
        const outputs = await runProgram({
            "webstack:domain": "example.org",
            "webstack:topology": "ha",
            "webstack:appEnvironment": '{"API_TOKEN":"fleet-t0ken"}',
        });
        expect(outputs).to.deep.equal({
            url: "https://www.example.org",
            hostName: "www.example.org",
            loadBalancerName: mockOutputOf("aws:lb/loadBalancer:LoadBalancer", "webstack-lb", "name"),
            groupName: mockOutputOf("aws:autoscaling/group:Group", "webstack-app", "name"),
            databaseEndpoint: mockOutputOf("aws:rds/instance:Instance", "webstack-db", "endpoint"),
            databaseIdentifier: mockOutputOf("aws:rds/instance:Instance", "webstack-db", "identifier"),
            bucketName: mockOutputOf("aws:s3/bucket:Bucket", "webstack-plan", "bucket"),
        });
        expect(remoteSteps()).to.deep.equal([]);
        const types = resources().map((resource) => resource.type);
        for (const type of [
            "webstack:index:WebFleet",
            "aws:lb/loadBalancer:LoadBalancer",
            "aws:autoscaling/group:Group",
            "aws:rds/instance:Instance",
        ]) {
            expect(types, type).to.include(type);
        }
        expect(types).not.to.include("aws:ec2/instance:Instance");
        const environment = resources().filter((resource) => String(resource.inputs.content).includes('API_TOKEN="fleet-t0ken"'));
        expect(environment.map((resource) => resource.name)).to.deep.equal(["webstack-plan-app-environment"]);
    });

    it("puts an ha fleet in maintenance at its load balancer from webstack:maintenance", async () => {
        await runProgram({ "webstack:domain": "example.org", "webstack:topology": "ha" });
        expect(resources().filter((resource) => resource.type === "aws:lb/listenerRule:ListenerRule")).to.deep.equal([]);
        await runProgram({
            "webstack:domain": "example.org",
            "webstack:topology": "ha",
            "webstack:maintenance": "true",
            "webstack:maintenanceAllowedCidrs": '["203.0.113.7/32"]',
        });
        const rules = resources().filter((resource) => resource.type === "aws:lb/listenerRule:ListenerRule");
        expect(rules.map((rule) => rule.name).sort()).to.deep.equal([
            "webstack-maintenance",
            "webstack-maintenance-allowed",
            "webstack-maintenance-api",
        ]);
    });
});
