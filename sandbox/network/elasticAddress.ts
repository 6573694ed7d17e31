import { runCommand } from "../host/exec";
import { replacingTableRuleset } from "./network";

/**
 * An Elastic IP for sandbox servers: an address of the test range that no server owns, which this
 * machine's own traffic reaches the server it is associated with through (destination NAT, as AWS
 * maps an Elastic IP to an instance). Moving it is one atomic ruleset swap: new connections reach
 * the new server at once, while connections open before the move stay with the old one until it
 * closes them. A host route for the address leads to the server as well: this machine looks its
 * route up before any packet reaches the NAT, and the test range is otherwise unreachable.
 */

/** The nftables table that maps the address `name` stands for. */
export function elasticAddressTable(name: string): string {
    return `webstack_eip_${name.replace(/[^a-z0-9]/gi, "_")}`;
}

/** The ruleset, for `nft -f`, that sends this machine's traffic for `address` to `target`; applying it again replaces the mapping. */
export function elasticAddressRuleset(name: string, address: string, target: string): string {
    return replacingTableRuleset(elasticAddressTable(name), [
        "  chain output {",
        "    type nat hook output priority -100; policy accept;",
        `    ip daddr ${address} dnat to ${target}`,
        "  }",
    ]);
}

/** The shell command that associates the Elastic IP `name` (at `address`) with the server at `target`: the route, then the mapping. */
export function associateElasticAddressCommand(name: string, address: string, target: string): string {
    return `ip route replace ${address}/32 via ${target} && nft -f - <<'RULESET'\n${elasticAddressRuleset(name, address, target)}RULESET`;
}

/** Associates the Elastic IP `name` (at `address`) with the server at `target`, moving it when it was elsewhere. */
export async function associateElasticAddress(name: string, address: string, target: string): Promise<void> {
    await runCommand("sh", ["-c", associateElasticAddressCommand(name, address, target)]);
}

/** Releases the Elastic IP `name`; releasing one that is gone is fine. */
export async function releaseElasticAddress(name: string, address: string): Promise<void> {
    await runCommand("nft", ["delete", "table", "ip", elasticAddressTable(name)], { allowFailure: true });
    await runCommand("ip", ["route", "delete", `${address}/32`], { allowFailure: true });
}
