import { Resolver } from "node:dns/promises";
import { buildPlan, type Plan, type PlanInputs, type ServerSettings } from "../../provisioning";
import { wwwHostName } from "../../provisioning/site";
import { applyPlan, type StepResult } from "../../sandbox/executors/runner";
import { destroySandbox, SERVER_PACKAGES_LAYER, startSandbox as bootSandbox } from "../../sandbox/sandbox";
import type { Sandbox } from "../../sandbox/host/state";
import { sshRunAsRoot, type SshTarget } from "../../sandbox/host/ssh";
import { request, waitUntil } from "./http";

/** A line of a sandbox's progress, indented under the test that caused it, with the time (UTC) to set a failure's beside. */
export function suiteLog(line: string): void {
    console.log(`      ${new Date().toISOString().slice(11, 19)} ${line}`);
}

/** How long a provisioned site may take to answer its health path through nginx. */
const READY_SECONDS = 60;

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
    /**
     * Applies a plan as the sandbox's runner does, with the sandbox's domain as the plan's domain and
     * its bucket as the backups' (unless `inputs` says otherwise); `inputs` adds the others (the app's environment). Logs each step unless `quiet`.
     */
    apply(plan: Plan, options?: { inputs?: Omit<PlanInputs, "domain">; quiet?: boolean }): Promise<StepResult[]>;
    /** The A records the sandbox's DNS server gives for a name. */
    lookup(hostName: string): Promise<string[]>;
    /** Tears the sandbox down; safe to call twice. */
    destroy(): Promise<void>;
}

/**
 * Boots a fresh sandbox called `name` (anything left of an earlier one of that name is removed
 * first, so a suite always starts from its image). Needs root on Linux. Call `destroy()` in
 * the suite's `after`.
 *
 * `image`: "bare" is Debian's cloud image, on which the plan installs every package; "packages"
 * has the plan's packages installed already, as a baked AMI would, for a suite that tests the
 * running stack rather than its installation (the plan still runs every step).
 */
export async function startSandbox(
    name: string,
    options: { domain?: string; log?: (line: string) => void; image: "bare" | "packages" },
): Promise<TestSandbox> {
    const log = options.log ?? suiteLog;
    await destroySandbox(name, log);
    const preinstalled = options.image === "packages" ? { preinstalled: SERVER_PACKAGES_LAYER } : {};
    const sandbox = await bootSandbox({ name, domain: options.domain, log, ...preinstalled });
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
        apply: (plan, applyOptions = {}) =>
            applyPlan(
                plan,
                sandbox.ssh,
                { backupBucket: sandbox.backupBucket, ...applyOptions.inputs, domain: sandbox.domain },
                { log: applyOptions.quiet ? () => undefined : log },
            ),
        lookup: (hostName) => resolver.resolve4(hostName),
        destroy: async () => {
            await destroySandbox(name, log);
        },
    };
}

/**
 * A fresh sandbox with the plan of `settings` applied, once its site answers the release's health
 * path through nginx: where a suite that tests the running stack starts (from the image with the
 * plan's packages installed).
 */
export async function provisionSandbox(
    name: string,
    settings: ServerSettings,
    options: { log?: (line: string) => void } = {},
): Promise<TestSandbox> {
    const sandbox = await startSandbox(name, { ...options, image: "packages" });
    await sandbox.apply(buildPlan(settings), { quiet: true });
    const site = { address: sandbox.address, hostName: wwwHostName(sandbox.domain) };
    await waitUntil(
        "the site answers its health path",
        READY_SECONDS,
        async () => (await request(site, "GET", settings.release.healthPath)).status === 200,
    );
    return sandbox;
}
