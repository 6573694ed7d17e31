import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import {
    commandConnection,
    dialSettings,
    minimumDialingSeconds,
    stepResourceName,
    type RemoteProvisioner as RemoteProvisionerClass,
} from "../../../components/remoteProvisioner";
import { buildPlan } from "../../../provisioning";
import { installMocks, MOCK_HOST_PUBLIC_KEY, mockDrift, resetRecords, resourcesOfType, settle } from "../../support/pulumiMocks";
import { scriptRunByStep } from "../../support/shippedScripts";

describe("dialSettings", () => {
    it("keeps dialling for the whole connect timeout even when every dial is refused at once, with the fewest dials that do", () => {
        for (const timeout of [10, 95, 600, 1800]) {
            const { dialErrorLimit, perDialTimeout } = dialSettings(timeout);
            expect(minimumDialingSeconds(dialErrorLimit), `${timeout} s`).to.be.at.least(timeout);
            expect(minimumDialingSeconds(dialErrorLimit - 1), `${timeout} s`).to.be.below(timeout);
            expect(perDialTimeout).to.equal(10);
        }
        expect(dialSettings(600).dialErrorLimit).to.equal(128);
    });

    it("adds up pulumi-command's pauses between dials: 0.1 s growing 1.5 times a try, at most 5 s", () => {
        expect(minimumDialingSeconds(1)).to.be.closeTo(0.1, 1e-9);
        expect(minimumDialingSeconds(3)).to.be.closeTo(0.1 + 0.15 + 0.225, 1e-9);
        expect(minimumDialingSeconds(12) - minimumDialingSeconds(11)).to.equal(5);
        expect(minimumDialingSeconds(60)).to.be.closeTo(261.3, 0.1);
    });

    it("rejects a timeout shorter than one attempt, naming the fix", () => {
        expect(() => dialSettings(5)).to.throw(/connectTimeoutSeconds is 5; expected a whole number of at least 10/);
        expect(() => dialSettings(12.5)).to.throw(/connectTimeoutSeconds/);
    });
});

describe("commandConnection", () => {
    it("defaults to admin on port 22 and marks the private key secret", async () => {
        const connection = commandConnection({ host: "198.18.3.2", privateKey: "KEY" }, 600);
        expect(connection).to.include({ host: "198.18.3.2", user: "admin", port: 22, dialErrorLimit: 128, perDialTimeout: 10 });
        expect(await pulumi.isSecret(connection.privateKey as pulumi.Output<string>)).to.equal(true);
    });

    it("carries no private key, nor any agent socket, when the steps log in through the ssh-agent", () => {
        const connection = commandConnection({ host: "198.18.3.2" }, 600);
        expect(connection.privateKey).to.equal(undefined);
        expect(connection).to.not.have.property("agentSocketPath");
    });

    it("passes the host key and bastion through", () => {
        const proxy = { host: "198.18.3.1", user: "jump" };
        const connection = commandConnection(
            { host: "h", privateKey: "KEY", hostKey: "ssh-ed25519 AAAA", proxy, user: "debian", port: 2222 },
            60,
        );
        expect(connection).to.include({ hostKey: "ssh-ed25519 AAAA", proxy, user: "debian", port: 2222 });
    });
});

describe("stepResourceName", () => {
    it("prefixes the step's name with the provisioner's", () => {
        expect(stepResourceName("webstack-provision", { kind: "run", name: "install-nginx", script: "" })).to.equal(
            "webstack-provision-install-nginx",
        );
    });
});

describe("RemoteProvisioner under Pulumi mocks", () => {
    let RemoteProvisioner: typeof RemoteProvisionerClass;

    before(async () => {
        await installMocks();
        ({ RemoteProvisioner } = await import("../../../components/remoteProvisioner"));
    });

    beforeEach(() => resetRecords());

    const plan = buildPlan({ release: { id: "0123456789ab", artifactPath: __filename, healthPath: "/healthz" } });
    const repairsIn = (provisioner: string) =>
        Object.fromEntries(
            resourcesOfType("command:remote:Command")
                .filter((command) => command.name.startsWith(`${provisioner}-`))
                .map((command) => [command.name, /^# Puts back what its files were: (.*)$/m.exec(String(command.inputs.stdin))?.[1]]),
        );

    it("gives a step whose files changed on the server a repair naming them, which its stdin records, and no other step one", async () => {
        mockDrift.set("nginx", { changedFiles: "/etc/nginx/sites-available/webstack", lastRepair: "" });
        mockDrift.set("base", { changedFiles: "", lastRepair: "repair 4: /etc/motd changed on the server" });
        new RemoteProvisioner("drifted", {
            connection: { host: "198.18.3.2", hostKey: MOCK_HOST_PUBLIC_KEY },
            plan,
            domain: "example.com",
        });
        await settle();
        const repairs = Object.entries(repairsIn("drifted")).filter(([, repair]) => repair !== undefined);
        expect(repairs).to.deep.equal([
            ["drifted-base", "repair 4: /etc/motd changed on the server"],
            ["drifted-nginx", "repair 1: /etc/nginx/sites-available/webstack changed on the server"],
        ]);
        expect(await scriptRunByStep("drifted-nginx")).to.not.contain("Puts back");
    });

    it("asks the server nothing when told not to, or when it has no host key to pin", async () => {
        mockDrift.set("nginx", { changedFiles: "/etc/nginx/sites-available/webstack", lastRepair: "" });
        new RemoteProvisioner("unasked", {
            connection: { host: "198.18.3.2", hostKey: MOCK_HOST_PUBLIC_KEY },
            plan,
            domain: "example.com",
            checkDrift: false,
        });
        new RemoteProvisioner("unpinned", { connection: { host: "198.18.3.2" }, plan, domain: "example.com" });
        await settle();
        expect(Object.values({ ...repairsIn("unasked"), ...repairsIn("unpinned") }).filter((repair) => repair !== undefined)).to.deep.equal(
            [],
        );
        for (const provisioner of ["unasked", "unpinned"]) {
            expect(await scriptRunByStep(`${provisioner}-nginx`), provisioner).to.contain("export NGINX_SITE_FILE=");
        }
    });

    it("refuses a plan whose steps render the site's domain when it is given none, naming the step and an example", () => {
        expect(() => new RemoteProvisioner("no-domain", { connection: { host: "198.18.3.2", privateKey: "KEY" }, plan })).to.throw(
            pulumi.ResourceError,
            /Plan step "nginx" renders the site's domain and needs the domain input, for example "example.com"/,
        );
    });
});
