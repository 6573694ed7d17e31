import { expect } from "chai";
import {
    allocateSubnetIndex,
    defaultRouteInterface,
    natRuleset,
    networkSetupCommands,
    networkTeardownCommands,
    sandboxNetwork,
    inTestRange,
    subnetIndexesInUse,
    testRangeFenced,
} from "../../../sandbox/network/network";
import { associateElasticAddressCommand, elasticAddressRuleset, elasticAddressTable } from "../../../sandbox/network/elasticAddress";
import { runCommand } from "../../../sandbox/host/exec";

describe("sandboxNetwork", () => {
    it("puts the host end on .1 and the server on .2 of 198.18.N.0/24", () => {
        const network = sandboxNetwork("default", 7);
        expect(network).to.include({ hostAddress: "198.18.7.1", guestAddress: "198.18.7.2", prefixLength: 24, netns: "webstack-default" });
    });

    it("keeps interface names within the kernel's 15 characters for the highest subnet", () => {
        const network = sandboxNetwork("a-very-long-name-xx", 254);
        expect(network.hostInterface.length).to.be.at.most(15);
        expect(network.transitInterface.length).to.be.at.most(15);
        expect(network.hostInterface).to.not.equal(network.transitInterface);
    });

    it("refuses a subnet index outside 1..254", () => {
        expect(() => sandboxNetwork("default", 0)).to.throw(/outside 1\.\.254/);
        expect(() => sandboxNetwork("default", 255)).to.throw(/outside 1\.\.254/);
    });
});

describe("subnetIndexesInUse", () => {
    it("finds the N of every 198.18.N.x address on the host and ignores other addresses", () => {
        const ipAddr = JSON.stringify([
            { ifname: "lo", addr_info: [{ local: "127.0.0.1" }] },
            { ifname: "eth0", addr_info: [{ local: "192.0.2.2" }, { local: "198.19.3.1" }] },
            { ifname: "wsb1", addr_info: [{ local: "198.18.1.1" }] },
            { ifname: "dummy0", addr_info: [{ local: "198.18.42.10" }] },
            { ifname: "down0" },
        ]);
        expect(subnetIndexesInUse(ipAddr)).to.deep.equal([1, 42]);
    });
});

describe("allocateSubnetIndex", () => {
    it("takes the lowest free subnet", () => {
        expect(allocateSubnetIndex([])).to.equal(1);
        expect(allocateSubnetIndex([1, 2, 4])).to.equal(3);
    });

    it("says how to free a subnet when all are taken", () => {
        const all = Array.from({ length: 254 }, (_, index) => index + 1);
        expect(() => allocateSubnetIndex(all)).to.throw(/destroy a sandbox/);
    });
});

describe("defaultRouteInterface", () => {
    it("returns the device of the default route", () => {
        expect(defaultRouteInterface(JSON.stringify([{ dst: "default", gateway: "192.0.2.1", dev: "ens5" }]))).to.equal("ens5");
    });

    it("explains that egress is impossible without a default route", () => {
        expect(() => defaultRouteInterface("[]")).to.throw(/no IPv4 default route/);
    });
});

describe("natRuleset", () => {
    const ruleset = natRuleset("ens5");

    it("replaces the sandbox's own table, so that applying it twice is harmless", () => {
        const lines = ruleset.split("\n");
        expect(lines.slice(0, 2)).to.deep.equal(["table ip webstack_sandbox", "delete table ip webstack_sandbox"]);
    });

    it("masquerades the sandbox subnets leaving through the uplink", () => {
        expect(ruleset).to.contain("type nat hook postrouting priority srcnat;");
        expect(ruleset).to.contain('ip saddr 198.18.0.0/16 oifname "ens5" masquerade');
    });

    it("lets guests out on HTTP and HTTPS only and drops anything else towards the uplink", () => {
        const accept = ruleset.indexOf('oifname "ens5" tcp dport { 80, 443 } accept');
        const drop = ruleset.indexOf('oifname "ens5" drop');
        expect(accept).to.be.greaterThan(-1);
        expect(drop).to.be.greaterThan(accept);
    });
});

describe("elasticAddressRuleset", () => {
    const ruleset = elasticAddressRuleset("site", "198.19.0.10", "198.18.2.2");

    it("sends this machine's own traffic for the address to the server it is associated with, before routing", () => {
        expect(ruleset).to.contain("type nat hook output priority -100;");
        expect(ruleset).to.contain("ip daddr 198.19.0.10 dnat to 198.18.2.2");
    });

    it("replaces its own table whole, so that moving the address is one transaction", () => {
        const table = elasticAddressTable("site");
        expect(ruleset.split("\n").slice(0, 3)).to.deep.equal([`table ip ${table}`, `delete table ip ${table}`, `table ip ${table} {`]);
    });

    it("is accepted by nft", async () => {
        await runCommand("nft", ["--check", "-f", "-"], { input: ruleset });
    });
});

describe("associateElasticAddressCommand", () => {
    const command = associateElasticAddressCommand("site", "198.19.0.10", "198.18.2.2");

    it("routes the address to the server, then swaps the mapping in with that ruleset, whole", () => {
        expect(command.startsWith("ip route replace 198.19.0.10/32 via 198.18.2.2 && nft -f - <<'RULESET'\n")).to.equal(true);
        expect(command).to.contain(elasticAddressRuleset("site", "198.19.0.10", "198.18.2.2"));
        expect(command.endsWith("\nRULESET")).to.equal(true);
    });

    it("is one shell command, as the move program's local step runs it", async () => {
        await runCommand("sh", ["-n", "-c", command]);
    });
});

describe("networkSetupCommands and networkTeardownCommands", () => {
    const network = sandboxNetwork("default", 3);

    it("creates the namespace, moves the guest end in as eth0 and routes through the host end", () => {
        const commands = networkSetupCommands(network).map((command) => command.join(" "));
        expect(commands[1]).to.equal("ip netns add webstack-default");
        expect(commands).to.include("ip -n webstack-default link set wsb3g name eth0");
        expect(commands).to.include("ip addr add 198.18.3.1/24 dev wsb3");
        expect(commands).to.include("ip -n webstack-default addr add 198.18.3.2/24 dev eth0");
        expect(commands[commands.length - 1]).to.equal("ip -n webstack-default route add default via 198.18.3.1");
    });

    it("fences the whole test range as unreachable before the veth pair exists, and leaves the namespace no route but its /24 and the host", () => {
        const commands = networkSetupCommands(network).map((command) => command.join(" "));
        expect(commands[0]).to.equal("ip route replace unreachable 198.18.0.0/15");
        expect(commands.filter((command) => command.includes(" route "))).to.deep.equal([
            "ip route replace unreachable 198.18.0.0/15",
            "ip -n webstack-default route add default via 198.18.3.1",
        ]);
    });

    it("deletes the host end before the namespace, and leaves the test range fenced", () => {
        expect(networkTeardownCommands(network)).to.deep.equal([
            ["ip", "link", "delete", "wsb3"],
            ["ip", "netns", "delete", "webstack-default"],
        ]);
    });
});

describe("testRangeFenced", () => {
    it("accepts an unreachable, blackhole or prohibit route for exactly 198.18.0.0/15", () => {
        for (const type of ["unreachable", "blackhole", "prohibit"]) {
            expect(testRangeFenced(JSON.stringify([{ type, dst: "198.18.0.0/15", flags: [] }])), type).to.equal(true);
        }
    });

    it("refuses no route, a route through a gateway, and a fence for only part of the range", () => {
        expect(testRangeFenced("[]")).to.equal(false);
        expect(testRangeFenced(JSON.stringify([{ dst: "198.18.0.0/15", gateway: "192.0.2.1", dev: "eth0" }]))).to.equal(false);
        expect(testRangeFenced(JSON.stringify([{ type: "unreachable", dst: "198.18.0.0/16" }]))).to.equal(false);
    });
});

describe("inTestRange", () => {
    it("takes 198.18.0.0 to 198.19.255.255 and nothing around it", () => {
        expect(["198.18.0.0", "198.18.3.2", "198.19.255.255"].map(inTestRange)).to.deep.equal([true, true, true]);
        expect(["198.17.255.255", "198.20.0.0", "127.0.0.1", "www.webstack.test", "1198.18.1.2"].map(inTestRange)).to.deep.equal([
            false,
            false,
            false,
            false,
            false,
        ]);
    });
});
