import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { callsOf, installMocks, mockIdOf, resetRecords, resources, settle, valueOf } from "../../support/pulumiMocks";
import { scriptRunByStep } from "../../support/shippedScripts";

type Program = () => Promise<Record<string, string | pulumi.Output<string>>>;

/** examples/two-sites run under the mocks, as a program outside this repository would use the components. */
describe("examples/two-sites under mocks", function () {
    this.timeout(120_000);
    let outputs: Record<string, string>;

    before(async () => {
        await installMocks();
        resetRecords();
        const config = {
            "webstack:sshPublicKey": "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHx5c2FuZGJveGtleWZvcnRlc3RzAAAAAAAAAAAAAAAA dev@laptop",
            "webstack:sshAllowedCidrs": JSON.stringify(["203.0.113.7/32"]),
            "webstack:sshPrivateKey": "PRIVATE KEY TEXT",
            "webstack:alertEmail": "ops@example.com",
            "webstack:shopApiToken": "shop-t0ken-value",
        };
        pulumi.runtime.setAllConfig(config, ["webstack:sshPrivateKey", "webstack:shopApiToken"]);
        const program = (await import("../../../examples/two-sites/index")).default as unknown as Program;
        outputs = {};
        for (const [key, value] of Object.entries(await program())) {
            outputs[key] = typeof value === "string" ? value : await valueOf(value);
        }
        await settle();
    });

    it("declares two complete servers, each with its own domain, the shop's in the zone the program creates", () => {
        expect(
            resources()
                .filter((resource) => resource.type === "webstack:index:WebServer")
                .map((resource) => resource.name),
        ).to.deep.equal(["blog", "shop"]);
        expect(outputs).to.include({ blogUrl: "http://www.blog-example.com", shopUrl: "http://www.shop-example.com" });
        const records = resources().filter((resource) => resource.type === "aws:route53/record:Record");
        expect(records.map((record) => `${String(record.inputs.name)} in ${String(record.inputs.zoneId)}`).sort()).to.deep.equal([
            "www.blog-example.com in Z0MOCKZONE0123",
            `www.shop-example.com in ${mockIdOf("aws:route53/zone:Zone", "shop-zone")}`,
        ]);
    });

    it("deploys each site's own app: the posts app on the blog, the minimal app with its health path and secret token on the shop", async () => {
        const scriptOf = scriptRunByStep;
        expect(await scriptOf("blog-provision-app")).to.contain("export APP_PORTS='3001 3002'");
        expect(await scriptOf("shop-provision-app")).to.contain("export APP_PORTS='3001 3002 3003'");
        expect(await scriptOf("shop-provision-app-environment")).to.contain('API_TOKEN="shop-t0ken-value"');
        expect(await scriptOf("blog-provision-app-environment")).not.to.contain("API_TOKEN");
        const healthChecks = resources().filter((resource) => resource.type === "aws:route53/healthCheck:HealthCheck");
        expect(healthChecks.map((check) => `${check.name} ${String(check.inputs.resourcePath)}`).sort()).to.deep.equal([
            "blog-health-check /healthz",
            "shop-health-check /health",
        ]);
        const uploads = resources()
            .filter((resource) => resource.type === "command:remote:CopyToRemote" && resource.name.endsWith("-upload-release"))
            .map((resource) => String(resource.inputs.remotePath));
        expect(new Set(uploads).size, "each site ships its own release").to.equal(2);
    });

    it("never uses a name twice: resources, Name tags, snapshot targets, providers", () => {
        const names = resources().map((resource) => `${resource.type}::${resource.name}`);
        expect(names.length).to.be.above(40);
        expect(new Set(names).size, "resource names").to.equal(names.length);
        const nameTags = resources()
            .map((resource) => (resource.inputs.tags as Record<string, string> | undefined)?.Name)
            .filter((tag): tag is string => tag !== undefined);
        expect(new Set(nameTags).size, "Name tags").to.equal(nameTags.length);
        const snapshotTargets = resources()
            .filter((resource) => resource.type === "aws:dlm/lifecyclePolicy:LifecyclePolicy")
            .map((resource) => JSON.stringify((resource.inputs.policyDetails as { targetTags: unknown }).targetTags));
        expect(new Set(snapshotTargets).size).to.equal(2);
    });

    it("boots each server from the image for its own architecture", () => {
        const instanceTypes = resources()
            .filter((resource) => resource.type === "aws:ec2/instance:Instance")
            .map((resource) => `${resource.name}: ${String(resource.inputs.instanceType)}`);
        expect(instanceTypes.sort()).to.deep.equal(["blog-instance: t3.micro", "shop-instance: t4g.small"]);
        const imageNames = callsOf("aws:ec2/getAmi:getAmi").map(
            (lookup) => (lookup.filters as { name: string; values: string[] }[]).find((filter) => filter.name === "name")?.values[0],
        );
        expect(imageNames.sort()).to.deep.equal(["debian-13-amd64-*", "debian-13-arm64-*"]);
    });
});
