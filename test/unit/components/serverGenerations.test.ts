import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import {
    callsOf,
    componentUnderMocks,
    installMocks,
    MOCK_HOST_PUBLIC_KEY,
    MOCK_PAUSED_POSITION,
    MOCK_PUBLIC_IP,
    MOCK_REPLICATION_KEY,
    mockCurrentPublicIp,
    mockExistingGenerations,
    mockIdOf,
    resourceNamed,
    resources,
    resourcesOfType,
} from "../../support/pulumiMocks";
import {
    generationOfName,
    generationResourceName,
    generationRoles,
    generationsProblem,
    moveStepName,
    parseServerGenerations,
    serverGenerationsProblem,
} from "../../../components/server/generations";
import { moveSteps } from "../../../components/server/move";
import { KEPT_SERVER_IGNORED_INPUTS } from "../../../components/server/instance";
import { MOVE_COMMANDS } from "../../../provisioning/files/replication";
import { buildPlan } from "../../../provisioning";
import type { WebServer as WebServerClass, WebServerArgs, WebServerProvisioning } from "../../../components/webServer";

describe("serverGenerationsProblem", () => {
    it("takes one server, or the one that serves first and up to two kept after it", () => {
        for (const text of ["1", "2,1", " 3 , 2 ,1", "1,2", "999,998"]) {
            expect(serverGenerationsProblem(text), text).to.equal(undefined);
        }
    });

    it("refuses what is not a list of whole numbers from 1 to 999, with an example", () => {
        for (const text of ["", "0", "two", "2;1", "1.5", "-1", "1000", "2,,1"]) {
            expect(serverGenerationsProblem(text), text).to.equal(
                `is ${JSON.stringify(text)}; expected the servers' generations, the one that serves first, each a whole number from 1 to 999, for example "2,1"`,
            );
        }
    });

    it("refuses a server named twice, and more than two kept, saying which to drop", () => {
        expect(serverGenerationsProblem("2,1,2")).to.match(/^is "2,1,2", which names a server twice; expected/);
        expect(serverGenerationsProblem("4,3,2,1")).to.equal(
            'is "4,3,2,1", 4 servers; at most 2 are kept besides the one that serves. Drop the oldest from the end: it is deleted',
        );
    });
});

describe("parseServerGenerations", () => {
    it("reads the generations in order", () => {
        expect(parseServerGenerations(" 3 , 2 ,1")).to.deep.equal([3, 2, 1]);
    });
});

describe("generationRoles", () => {
    it("moves nothing for one server", () => {
        expect(generationRoles([1])).to.deep.equal({ serving: 1, kept: [] });
    });

    it("moves the site from the second server to the first, copying the database to a new one", () => {
        expect(generationRoles([2, 1])).to.deep.equal({ serving: 2, move: { from: 1, to: 2, how: "follow" }, kept: [1] });
    });

    it("moves back to a server the site left from its own last transaction, keeping the other", () => {
        expect(generationRoles([1, 2])).to.deep.equal({ serving: 1, move: { from: 2, to: 1, how: "rejoin" }, kept: [2] });
        expect(generationRoles([3, 2, 1])).to.deep.equal({ serving: 3, move: { from: 2, to: 3, how: "follow" }, kept: [2, 1] });
    });
});

describe("generationResourceName and moveStepName", () => {
    it("keeps generation 1's names as they were, so that an existing server is not replaced", () => {
        expect(generationResourceName("webstack-instance", 1)).to.equal("webstack-instance");
        expect(generationResourceName("webstack-instance", 2)).to.equal("webstack-instance-g2");
    });

    it("names both servers in each step of a move", () => {
        expect(moveStepName("webstack", { from: 1, to: 2, how: "follow" }, "promote")).to.equal("webstack-move-g1-g2-promote");
    });
});

describe("generationOfName", () => {
    it("reads a server's generation from its Name tag, and nothing from another name", () => {
        expect(generationOfName("web-instance", "web-instance")).to.equal(1);
        expect(generationOfName("web-instance-g12", "web-instance")).to.equal(12);
        for (const name of ["web-instance-g", "web-instance-g0", "web-instance-gx", "web-instance-root", "other-instance"]) {
            expect(generationOfName(name, "web-instance"), name).to.equal(undefined);
        }
    });
});

describe("generationsProblem", () => {
    it("lets the list keep servers EC2 has, and add a new one first that takes over from one of them", () => {
        expect(generationsProblem([1], [])).to.equal(undefined);
        expect(generationsProblem([1], [1])).to.equal(undefined);
        expect(generationsProblem([2, 1], [1])).to.equal(undefined);
        expect(generationsProblem([2, 1], [1, 2])).to.equal(undefined);
        expect(generationsProblem([1, 2], [1, 2])).to.equal(undefined);
        expect(generationsProblem([2], [1, 2])).to.equal(undefined);
        expect(generationsProblem([3, 2], [1, 2])).to.equal(undefined);
    });

    it("refuses to keep a server that does not exist: a kept server is one the site has left", () => {
        expect(generationsProblem([2, 1], [])).to.match(/^keeps server 1, which EC2 does not have \(the stack's servers: none yet\)/);
        expect(generationsProblem([3, 2], [1])).to.equal(
            "keeps server 2, which EC2 does not have (the stack's servers: 1); a server is kept only after the site has left it. List the server that serves now second, after the new one, for example 2,1",
        );
    });

    it("refuses a new server that takes the site over from none, which would serve an empty database", () => {
        expect(generationsProblem([2], [1])).to.equal(
            "is 2, a new server, and names no server it takes the site over from (the stack's servers: 1): it would serve an empty database. Write 2,1 to move the site and its data to it",
        );
    });
});

describe("moveSteps", () => {
    const old = { privateAddress: "172.31.5.9", hostKey: MOCK_HOST_PUBLIC_KEY };

    it("runs the move's commands in their order, each on the server they name, the output of one given to the next", () => {
        const steps = moveSteps({ from: 1, to: 2, how: "follow" });
        const outputs = ["", MOCK_REPLICATION_KEY, "", "", `${MOCK_PAUSED_POSITION}\n`];
        expect(steps.map((step) => step.name)).to.deep.equal(["key", "allow", "follow", "pause-writes", "promote"]);
        expect(steps.map((step, index) => step.command(outputs[index], old))).to.deep.equal([
            MOVE_COMMANDS.replicationKey,
            MOVE_COMMANDS.allow(MOCK_REPLICATION_KEY),
            MOVE_COMMANDS.catchUp("follow", old.privateAddress, old.hostKey),
            MOVE_COMMANDS.pauseWrites,
            MOVE_COMMANDS.promote(MOCK_PAUSED_POSITION),
        ]);
    });

    it("rejoins, with no copy, moving back", () => {
        const steps = moveSteps({ from: 2, to: 1, how: "rejoin" });
        expect(steps[2].name).to.equal("rejoin");
        expect(steps[2].command("", old)).to.deep.equal(MOVE_COMMANDS.catchUp("rejoin", old.privateAddress, old.hostKey));
    });
});

const SSH_PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHx5c2FuZGJveGtleWZvcnRlc3RzAAAAAAAAAAAAAAAA dev@laptop";
const PROVISIONING: WebServerProvisioning = {
    release: { id: "0123456789ab", artifactPath: __filename, healthPath: "/health" },
    sshPrivateKey: pulumi.secret("PRIVATE KEY TEXT"),
};
/** The plan's last step, which the move waits for. */
const LAST_STEP = buildPlan({ ...PROVISIONING, sshAccess: { user: "admin" } }).slice(-1)[0].name;
const TLS = { email: "ops@example.com", directoryUrl: "https://acme.example.net/dir" };
const COMMAND = "command:remote:Command";
const INSTANCE = "aws:ec2/instance:Instance";
const INSTANCE_STATE = "aws:ec2transitgateway/instanceState:InstanceState";

describe("WebServer's server generations under Pulumi mocks", () => {
    let WebServer: typeof WebServerClass;

    before(async () => {
        await installMocks();
        ({ WebServer } = await import("../../../components/webServer"));
    });

    const build = componentUnderMocks(
        "gen",
        (name, overrides: Partial<WebServerArgs>) =>
            new WebServer(name, {
                domain: "example.com",
                sshPublicKey: SSH_PUBLIC_KEY,
                sshAllowedCidrs: ["203.0.113.7/32"],
                provisioning: PROVISIONING,
                ...overrides,
            }),
        (server) => server.sshCommand,
    );
    const moveStepNames = (name: string, from: number, to: number, how: string) =>
        ["key", "allow", how, "pause-writes", "promote"].map((step) => `${name}-move-g${from}-g${to}-${step}`);
    const commandOf = (name: string) => resourceNamed(COMMAND, name).inputs;

    it("declares one protected server, as before generations, by default: no state, no move", async () => {
        const { name } = await build();
        expect(resourcesOfType(INSTANCE).map((resource) => [resource.name, resource.protect])).to.deep.equal([[`${name}-instance`, true]]);
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
        expect(callsOf("aws:ec2/getInstances:getInstances").map((call) => (call.instanceTags as Record<string, string>).Name)).to.include(
            `${name}-instance*`,
        );
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
            expect(resourceNamed(COMMAND, `${name}-provision-g2-${LAST_STEP}`).dependsOn.some((each) => each.endsWith("-record"))).to.equal(
                false,
            );
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
            expect(resourceNamed(COMMAND, steps[0]).dependsOn).to.include(`${name}-provision-g2-${LAST_STEP}`);
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
            ({ name } = await buildWith([1], { serverGenerations: [2, 1], provisioning: { ...PROVISIONING, tls: TLS } }));
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
        await buildWith([1, 2], { serverGenerations: [1, 2], provisioning: { ...PROVISIONING, tls: TLS } });
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
