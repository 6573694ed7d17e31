import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { commandConnection, dialSettings, stepResourceName, type RemoteProvisioner as RemoteProvisionerClass } from "../../../components/remoteProvisioner";
import { buildPlan } from "../../../provisioning";
import { installMocks } from "../../support/pulumiMocks";

describe("dialSettings", () => {
    it("keeps dialling for the whole connect timeout, ten seconds per attempt", () => {
        expect(dialSettings(600)).to.deep.equal({ dialErrorLimit: 60, perDialTimeout: 10 });
        expect(dialSettings(95)).to.deep.equal({ dialErrorLimit: 10, perDialTimeout: 10 });
    });

    it("rejects a timeout shorter than one attempt, naming the fix", () => {
        expect(() => dialSettings(5)).to.throw(/connectTimeoutSeconds is 5; expected a whole number of at least 10/);
        expect(() => dialSettings(12.5)).to.throw(/connectTimeoutSeconds/);
    });
});

describe("commandConnection", () => {
    it("defaults to admin on port 22 and marks the private key secret", async () => {
        const connection = commandConnection({ host: "198.18.3.2", privateKey: "KEY" }, 600);
        expect(connection).to.include({ host: "198.18.3.2", user: "admin", port: 22, dialErrorLimit: 60, perDialTimeout: 10 });
        expect(await pulumi.isSecret(connection.privateKey as pulumi.Output<string>)).to.equal(true);
    });

    it("passes the host key and bastion through", () => {
        const proxy = { host: "198.18.3.1", user: "jump" };
        const connection = commandConnection({ host: "h", privateKey: "KEY", hostKey: "ssh-ed25519 AAAA", proxy, user: "debian", port: 2222 }, 60);
        expect(connection).to.include({ hostKey: "ssh-ed25519 AAAA", proxy, user: "debian", port: 2222 });
    });
});

describe("stepResourceName", () => {
    it("prefixes the step's name with the provisioner's", () => {
        expect(stepResourceName("webstack-provision", { kind: "run", name: "install-nginx", script: "" })).to.equal("webstack-provision-install-nginx");
    });
});

describe("RemoteProvisioner under Pulumi mocks", () => {
    let RemoteProvisioner: typeof RemoteProvisionerClass;

    before(async () => {
        await installMocks();
        ({ RemoteProvisioner } = await import("../../../components/remoteProvisioner"));
    });

    it("refuses a plan whose steps render the site's domain when it is given none, naming the step and an example", () => {
        const plan = buildPlan({ release: { id: "0123456789ab", artifactPath: __filename, healthPath: "/healthz" } });
        expect(() => new RemoteProvisioner("no-domain", { connection: { host: "198.18.3.2", privateKey: "KEY" }, plan })).to.throw(
            pulumi.ResourceError,
            /Plan step "nginx" renders the site's domain; give RemoteProvisioner a domain, for example "example.com"/,
        );
    });
});
