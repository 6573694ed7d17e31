import { Resolver } from "node:dns/promises";
import { destroySandbox, startSandbox as bootSandbox, type Sandbox } from "../../sandbox/sandbox";
import { sshRunAsRoot, type SshTarget } from "../../sandbox/ssh";

/** A fresh, booted sandbox server for an end-to-end suite. */
export interface TestSandbox {
    readonly name: string;
    readonly domain: string;
    /** The server's address (198.18.N.2). */
    readonly address: string;
    /** The sandbox's DNS server (198.18.N.1), which answers www.<domain> and <domain>. */
    readonly dnsServer: string;
    /** SSH as admin with the pinned host keys: pass it to the runner's applyPlan. */
    readonly ssh: SshTarget;
    readonly sandbox: Sandbox;
    /** Runs a bash command as root on the server and returns its stdout; throws with its stderr when it fails. */
    exec(command: string): Promise<string>;
    /** The A records the sandbox's DNS server gives for a name. */
    lookup(hostName: string): Promise<string[]>;
    /** Tears the sandbox down; safe to call twice. */
    destroy(): Promise<void>;
}

/**
 * Boots a fresh sandbox called `name` (anything left of an earlier one of that name is removed
 * first, so a suite always starts from the base image). Needs root on Linux. Call `destroy()` in
 * the suite's `after`.
 */
export async function startSandbox(name: string, options: { domain?: string; log?: (line: string) => void } = {}): Promise<TestSandbox> {
    const log = options.log ?? (() => undefined);
    await destroySandbox(name, log);
    const sandbox = await bootSandbox({ name, domain: options.domain, log });
    const resolver = new Resolver({ timeout: 2000, tries: 2 });
    resolver.setServers([sandbox.dnsServer]);
    return {
        name,
        domain: sandbox.domain,
        address: sandbox.address,
        dnsServer: sandbox.dnsServer,
        ssh: sandbox.ssh,
        sandbox,
        exec: (command) => sshRunAsRoot(sandbox.ssh, command),
        lookup: (hostName) => resolver.resolve4(hostName),
        destroy: async () => {
            await destroySandbox(name, log);
        },
    };
}
