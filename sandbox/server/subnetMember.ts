import { bootServer, type ServerImage } from "./boot";
import { checkedSandboxName } from "../host/layout";
import { createNetwork, type SandboxNetwork } from "../network/network";
import { destroySandbox } from "../sandbox";
import { writeState, type Sandbox, type SandboxState } from "../host/state";

/**
 * Boots one server of a shared subnet (the fleet sandbox) at `network`, whose bridge exists: its veth
 * pair, root and supervisor. Anything left of a server of that name is removed first; a failed boot
 * leaves nothing behind.
 */
export async function startSubnetMember(options: {
    name: string;
    domain: string;
    network: SandboxNetwork;
    image: ServerImage;
    log: (line: string) => void;
}): Promise<Sandbox> {
    const name = checkedSandboxName(options.name);
    await destroySandbox(name, () => undefined);
    const state: SandboxState = {
        name,
        subnetIndex: options.network.subnetIndex,
        domain: options.domain,
        createdAt: new Date().toISOString(),
        network: options.network,
    };
    try {
        writeState(state);
        await createNetwork(options.network);
        return await bootServer(state, options.image, options.log);
    } catch (error) {
        await destroySandbox(name, () => undefined);
        throw error;
    }
}
