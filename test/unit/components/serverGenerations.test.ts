import { expect } from "chai";
import { MOCK_HOST_PUBLIC_KEY, MOCK_PAUSED_POSITION, MOCK_REPLICATION_KEY } from "../../support/pulumiMocks";
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
import { MOVE_COMMANDS } from "../../../provisioning/files/replication";

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
