import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { runCommand } from "../host/exec";
import { SAVED_IP_FORWARD_FILE } from "../host/layout";

/**
 * Each sandbox gets a /24 of 198.18.0.0/15 (the range set aside for network testing):
 * 198.18.N.1 on the host end of a veth pair, 198.18.N.2 on the guest's eth0 inside a network
 * namespace of its own. Guests reach Debian's mirror through NAT on the host.
 */

const SUBNET_PREFIX = "198.18";
/**
 * The whole range set aside for network testing. The host routes it as unreachable, so that traffic
 * for a test host that is gone is refused on this machine instead of leaving through the default
 * route; each live sandbox's /24 is more specific and still wins. `unreachable` rather than
 * `blackhole`: both drop the packet here, but the sender learns why at once ("No route to host",
 * and an ICMP error for what a namespace forwards) instead of EINVAL or a silent timeout.
 */
export const TEST_RANGE = "198.18.0.0/15";
/** The subnets sandboxes may take: 198.18.1.0/24 to 198.18.254.0/24. */
const FIRST_SUBNET_INDEX = 1;
const LAST_SUBNET_INDEX = 254;
/** Guest source addresses that the NAT table masquerades: every sandbox subnet. */
const SANDBOX_SOURCE_RANGE = `${SUBNET_PREFIX}.0.0/16`;
/** Egress the guests get: HTTP for apt, HTTPS for anything that fetches over TLS. */
const EGRESS_TCP_PORTS = [80, 443] as const;
export const NAT_TABLE = "webstack_sandbox";
const IP_FORWARD_SYSCTL = "/proc/sys/net/ipv4/ip_forward";

export interface SandboxNetwork {
    /** N in 198.18.N.0/24. */
    readonly subnetIndex: number;
    /** The host end of the veth pair: the guest's gateway and DNS server. */
    readonly hostAddress: string;
    /** The server's address. */
    readonly guestAddress: string;
    readonly prefixLength: 24;
    /** The network namespace the guest runs in (`ip netns`). */
    readonly netns: string;
    /** The veth end on the host. */
    readonly hostInterface: string;
    /** The veth end's name while it is created, before it moves into the namespace as eth0. */
    readonly transitInterface: string;
    /**
     * A bridge the host end joins, when several servers share the subnet (the fleet sandbox): the
     * bridge holds the host's address, the veth end none.
     */
    readonly bridge?: string;
}

/** The network namespace of the sandbox `name`. */
export function namespaceName(name: string): string {
    return `webstack-${name}`;
}

/** The network of the sandbox `name` on subnet `subnetIndex`. Interface names stay within the kernel's 15 characters. */
export function sandboxNetwork(name: string, subnetIndex: number): SandboxNetwork {
    if (!Number.isInteger(subnetIndex) || subnetIndex < FIRST_SUBNET_INDEX || subnetIndex > LAST_SUBNET_INDEX) {
        throw new Error(`Subnet index ${subnetIndex} is outside ${FIRST_SUBNET_INDEX}..${LAST_SUBNET_INDEX}.`);
    }
    return {
        subnetIndex,
        hostAddress: `${SUBNET_PREFIX}.${subnetIndex}.1`,
        guestAddress: `${SUBNET_PREFIX}.${subnetIndex}.2`,
        prefixLength: 24,
        netns: namespaceName(name),
        hostInterface: `wsb${subnetIndex}`,
        transitInterface: `wsb${subnetIndex}g`,
    };
}

/** The subnet indexes that addresses on the host already use (`ip -j -4 addr` output, any 198.18.N.x). */
export function subnetIndexesInUse(ipAddrJson: string): number[] {
    const interfaces = JSON.parse(ipAddrJson) as { addr_info?: { local?: string }[] }[];
    const pattern = new RegExp(`^${SUBNET_PREFIX.replace(".", "\\.")}\\.(\\d+)\\.\\d+$`);
    return interfaces
        .flatMap((entry) => entry.addr_info ?? [])
        .map((info) => pattern.exec(info.local ?? ""))
        .filter((match): match is RegExpExecArray => match !== null)
        .map((match) => Number(match[1]));
}

/** The lowest free subnet index; throws when every subnet is taken. */
export function allocateSubnetIndex(taken: Iterable<number>): number {
    const used = new Set(taken);
    for (let index = FIRST_SUBNET_INDEX; index <= LAST_SUBNET_INDEX; index++) {
        if (!used.has(index)) {
            return index;
        }
    }
    throw new Error(
        `All ${LAST_SUBNET_INDEX} sandbox subnets in ${SANDBOX_SOURCE_RANGE} are in use; destroy a sandbox first (npm run sandbox -- destroy).`,
    );
}

/** The interface of the host's default route (`ip -j route show default` output): where NAT sends guest traffic. */
export function defaultRouteInterface(ipRouteJson: string): string {
    const routes = JSON.parse(ipRouteJson) as { dev?: string }[];
    const device = routes.find((route) => route.dev)?.dev;
    if (!device) {
        throw new Error("The host has no IPv4 default route, so the sandbox cannot give its server egress to Debian's mirror.");
    }
    return device;
}

/**
 * The NAT table, for `nft -f`: guests may leave through the uplink on the egress ports only
 * (masqueraded); anything else they send towards the uplink is dropped, so that test traffic never
 * leaves this machine. It starts by deleting the table, so that applying it again replaces it.
 */
export function natRuleset(uplink: string): string {
    const ports = EGRESS_TCP_PORTS.join(", ");
    return replacingTableRuleset(NAT_TABLE, [
        "  chain forward {",
        "    type filter hook forward priority filter; policy accept;",
        `    ip saddr ${SANDBOX_SOURCE_RANGE} oifname "${uplink}" tcp dport { ${ports} } accept`,
        `    ip saddr ${SANDBOX_SOURCE_RANGE} oifname "${uplink}" drop`,
        "  }",
        "  chain postrouting {",
        "    type nat hook postrouting priority srcnat; policy accept;",
        `    ip saddr ${SANDBOX_SOURCE_RANGE} oifname "${uplink}" masquerade`,
        "  }",
    ]);
}

/**
 * An nftables table of the `ip` family, for `nft -f`, made of `chains`: it starts by deleting the
 * table, so that applying it again replaces the table whole, in one transaction.
 */
export function replacingTableRuleset(table: string, chains: readonly string[]): string {
    return [`table ip ${table}`, `delete table ip ${table}`, `table ip ${table} {`, ...chains, "}", ""].join("\n");
}

/** The command that fences the test range on the host; running it again changes nothing. */
export const FENCE_TEST_RANGE_COMMAND: readonly string[] = ["ip", "route", "replace", "unreachable", TEST_RANGE];

/**
 * Whether `ip -j -4 route show <TEST_RANGE>` output holds the fence: a route for exactly the
 * test range that ends on this machine (unreachable, blackhole or prohibit), not one through a gateway.
 */
export function testRangeFenced(ipRouteJson: string): boolean {
    const routes = JSON.parse(ipRouteJson) as { dst?: string; type?: string }[];
    const dropping = new Set(["unreachable", "blackhole", "prohibit"]);
    return routes.some((route) => route.dst === TEST_RANGE && dropping.has(route.type ?? ""));
}

const MISSING_FENCE_MESSAGE =
    `The host has no unreachable route for the test range ${TEST_RANGE}, so traffic for a test host that is gone ` +
    `would leave through the default route. Add it (as root): ${FENCE_TEST_RANGE_COMMAND.join(" ")}`;

/** Whether an IPv4 address lies in the test range (198.18.0.0 to 198.19.255.255). */
export function inTestRange(address: string): boolean {
    return /^198\.(18|19)\.\d{1,3}\.\d{1,3}$/.test(address);
}

/** Throws, naming the fix, unless the host fences the test range: for a client about to send to a test host. */
export function requireTestRangeFenced(): void {
    const routes = execFileSync("ip", ["-j", "-4", "route", "show", TEST_RANGE], { encoding: "utf8" });
    if (!testRangeFenced(routes || "[]")) {
        throw new Error(MISSING_FENCE_MESSAGE);
    }
}

/** Fences the test range on the host (as root) and checks that the fence took: what CI does before any test runs. */
export function fenceTestRange(): void {
    const [command, ...args] = FENCE_TEST_RANGE_COMMAND;
    execFileSync(command, args);
    requireTestRangeFenced();
}

/**
 * The `ip` commands that create the namespace, the veth pair and the addresses, in order. The
 * test range is fenced first, before any veth comes up, and stays when the sandbox goes. The
 * namespace needs no fence of its own: it routes only its /24 and sends the rest to the host.
 */
export function networkSetupCommands(network: SandboxNetwork): string[][] {
    const { netns, hostInterface, transitInterface, hostAddress, guestAddress, prefixLength } = network;
    const inNamespace = (...args: string[]) => ["ip", "-n", netns, ...args];
    const hostEnd =
        network.bridge === undefined
            ? ["addr", "add", `${hostAddress}/${prefixLength}`, "dev", hostInterface]
            : ["link", "set", hostInterface, "master", network.bridge];
    return [
        [...FENCE_TEST_RANGE_COMMAND],
        ["ip", "netns", "add", netns],
        ["ip", "link", "add", hostInterface, "type", "veth", "peer", "name", transitInterface],
        ["ip", "link", "set", transitInterface, "netns", netns],
        inNamespace("link", "set", transitInterface, "name", "eth0"),
        ["ip", ...hostEnd],
        ["ip", "link", "set", hostInterface, "up"],
        inNamespace("addr", "add", `${guestAddress}/${prefixLength}`, "dev", "eth0"),
        inNamespace("link", "set", "lo", "up"),
        inNamespace("link", "set", "eth0", "up"),
        inNamespace("route", "add", "default", "via", hostAddress),
    ];
}

/** The commands that remove what {@link networkSetupCommands} made: the host end first, then the namespace. */
export function networkTeardownCommands(network: SandboxNetwork): string[][] {
    return [
        ["ip", "link", "delete", network.hostInterface],
        ["ip", "netns", "delete", network.netns],
    ];
}

async function runAll(commands: string[][], allowFailure: boolean): Promise<void> {
    for (const [command, ...args] of commands) {
        await runCommand(command, args, { allowFailure });
    }
}

/** The subnet indexes taken by addresses on the host. */
export async function hostSubnetIndexes(): Promise<number[]> {
    return subnetIndexesInUse((await runCommand("ip", ["-j", "-4", "addr"])).stdout);
}

/** Runs the setup commands; when one fails, undoes whatever part was made and rethrows. */
async function runAllOrUndo(commands: string[][], undo: () => Promise<void>): Promise<void> {
    try {
        await runAll(commands, false);
    } catch (error) {
        await undo();
        throw error;
    }
}

/** Creates the sandbox's namespace and veth pair; on failure removes whatever part was made. */
export async function createNetwork(network: SandboxNetwork): Promise<void> {
    await runAllOrUndo(networkSetupCommands(network), () => removeNetwork(network));
}

/** Removes the sandbox's veth pair and namespace; what is already gone is fine. */
export async function removeNetwork(network: SandboxNetwork): Promise<void> {
    await runAll(networkTeardownCommands(network), true);
}

/** Turns on forwarding and installs the NAT table; remembers the previous ip_forward the first time. */
export async function enableEgress(): Promise<void> {
    if (!existsSync(SAVED_IP_FORWARD_FILE)) {
        writeFileSync(SAVED_IP_FORWARD_FILE, readFileSync(IP_FORWARD_SYSCTL, "utf8"));
    }
    const uplink = defaultRouteInterface((await runCommand("ip", ["-j", "-4", "route", "show", "default"])).stdout);
    await runCommand("nft", ["-f", "-"], { input: natRuleset(uplink) });
    writeFileSync(IP_FORWARD_SYSCTL, "1\n");
}

/** Removes the NAT table and puts ip_forward back as it was before the first sandbox. */
export async function disableEgress(): Promise<void> {
    await runCommand("nft", ["delete", "table", "ip", NAT_TABLE], { allowFailure: true });
    if (existsSync(SAVED_IP_FORWARD_FILE)) {
        writeFileSync(IP_FORWARD_SYSCTL, readFileSync(SAVED_IP_FORWARD_FILE, "utf8"));
        rmSync(SAVED_IP_FORWARD_FILE);
    }
}

/**
 * Several servers on one subnet (the fleet sandbox, like a VPC): a bridge on the host holds 198.18.N.1,
 * and every server's veth pair has its host end on the bridge.
 */
export interface SharedSubnet {
    readonly subnetIndex: number;
    readonly bridge: string;
    readonly hostAddress: string;
    readonly prefixLength: 24;
    /** The subnet in CIDR form: what a load balancer's peers come from. */
    readonly cidr: string;
}

/** The shared subnet on 198.18.N.0/24. */
export function sharedSubnet(subnetIndex: number): SharedSubnet {
    const { hostAddress } = sandboxNetwork("shared", subnetIndex);
    return { subnetIndex, bridge: `wsf${subnetIndex}`, hostAddress, prefixLength: 24, cidr: `${SUBNET_PREFIX}.${subnetIndex}.0/24` };
}

/** The address 198.18.N.`hostNumber` of a server on a shared subnet. */
export function sharedSubnetAddress(subnet: SharedSubnet, hostNumber: number): string {
    if (!Number.isInteger(hostNumber) || hostNumber < 2 || hostNumber > 254) {
        throw new Error(`Host number ${hostNumber} is outside 2..254 (198.18.${subnet.subnetIndex}.1 is the host's).`);
    }
    return `${SUBNET_PREFIX}.${subnet.subnetIndex}.${hostNumber}`;
}

/** The network of the server `name` at 198.18.N.`hostNumber` on a shared subnet. */
export function sharedSubnetMember(subnet: SharedSubnet, name: string, hostNumber: number): SandboxNetwork {
    return {
        subnetIndex: subnet.subnetIndex,
        hostAddress: subnet.hostAddress,
        guestAddress: sharedSubnetAddress(subnet, hostNumber),
        prefixLength: 24,
        netns: namespaceName(name),
        hostInterface: `${subnet.bridge}m${hostNumber}`,
        transitInterface: `${subnet.bridge}m${hostNumber}g`,
        bridge: subnet.bridge,
    };
}

/** The `ip` commands that create the shared subnet's bridge with the host's address on it, the test range fenced first. */
export function sharedSubnetSetupCommands(subnet: SharedSubnet): string[][] {
    return [
        [...FENCE_TEST_RANGE_COMMAND],
        ["ip", "link", "add", subnet.bridge, "type", "bridge"],
        ["ip", "addr", "add", `${subnet.hostAddress}/${subnet.prefixLength}`, "dev", subnet.bridge],
        ["ip", "link", "set", subnet.bridge, "up"],
    ];
}

/** Creates the shared subnet's bridge; on failure removes it. */
export async function createSharedSubnet(subnet: SharedSubnet): Promise<void> {
    await runAllOrUndo(sharedSubnetSetupCommands(subnet), () => removeSharedSubnet(subnet));
}

/** Removes the shared subnet's bridge (its members' veth ends first, by their own teardown); what is gone already is fine. */
export async function removeSharedSubnet(subnet: SharedSubnet): Promise<void> {
    await runAll([["ip", "link", "delete", subnet.bridge]], true);
}

/** Where a sandbox's metadata service listens on the host; the redirect below sends 169.254.169.254:80 there. */
export const METADATA_PORT = 8169;

/** The metadata redirect's nftables table, one per subnet so that sandboxes and fleets do not remove each other's. */
export function metadataTable(subnetIndex: number): string {
    return `webstack_metadata_${subnetIndex}`;
}

/**
 * The nftables table that sends the servers' requests for the instance metadata service
 * (169.254.169.254:80), arriving on `inboundInterface`, to the sandbox's metadata service at `hostAddress`.
 */
export function metadataRedirectRuleset(subnetIndex: number, inboundInterface: string, hostAddress: string): string {
    return replacingTableRuleset(metadataTable(subnetIndex), [
        "  chain prerouting {",
        "    type nat hook prerouting priority dstnat; policy accept;",
        `    iifname "${inboundInterface}" ip daddr 169.254.169.254 tcp dport 80 dnat to ${hostAddress}:${METADATA_PORT}`,
        "  }",
    ]);
}
