/**
 * The sandbox's command line: a real Debian server on this machine, configured by the same plan
 * that `pulumi up` applies to EC2.
 *
 *     npm run sandbox                  # boot (or reuse) the server, build the release, apply the plan, print the URL
 *     npm run sandbox -- deploy        # build and ship the app release only
 *     npm run sandbox -- rollback      # switch the server back to the previous release
 *     npm run sandbox -- backup        # dump the server's database now
 *     npm run sandbox -- restore       # restore the newest dump (or --dump=NAME) while the site serves
 *     npm run sandbox -- status
 *     npm run sandbox -- destroy       # remove the server and everything it made on this host
 *     npm run sandbox -- --ha          # the ha topology: load balancer, database and two app servers configured by cloud-init
 *     npm run sandbox -- deploy --ha   # a rolling deploy across the app servers (new ones first, then the old ones retired)
 *     npm run sandbox -- rollback --ha # a rolling refresh back to the launch template's previous version
 *     npm run sandbox -- destroy --ha
 *     npm run sandbox -- --pulumi      # the same server configured by the real Pulumi engine running index.ts (existing-server mode)
 *     npm run sandbox -- deploy --pulumi  # pulumi up again: the release's steps, and any other that changed
 *
 * Options: --name=NAME (default "default"), --domain=DOMAIN (default webstack.test), --verbose,
 * --https (with up: HTTPS with a certificate from pebble, a real ACME server on this host), --dump=NAME
 * (with restore: a dump other than the newest).
 */
import { buildRelease } from "../release/build";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import type { Stack } from "@pulumi/pulumi/automation";
import { join } from "node:path";
import { buildPlan, type Release, type TlsSettings } from "../provisioning";
import { BACKUP_COMMAND, RESTORE_COMMAND, ROLLBACK_COMMAND } from "../provisioning/layout";
import { shellQuote } from "../provisioning/script";
import { wwwHostName } from "../provisioning/site";
import type { Plan } from "../provisioning/plan";
import { releaseSteps } from "../provisioning/steps/release";
import { startAcmeServer, stopAcmeServer, trustAcmeServer } from "./acme/acme";
import { DEFAULT_DOMAIN, checkedSandboxDomain } from "./network/dns";
import { ensureEngineBinDir, existingServerConfig, openEngineStack, sandboxServer } from "./executors/engine";
import { secondsSince } from "./host/exec";
import { requireRootOnLinux } from "./host/host";
import { waitForHttpOk } from "./network/http";
import { DEFAULT_SANDBOX_NAME, sandboxPaths, checkedSandboxName } from "./host/layout";
import { destroyFleet, runningFleet, startFleet } from "./fleet/fleet";
import type { Fleet } from "./fleet/fleetHandle";
import { memberName } from "./fleet/fleetLayout";
import { applyPlan } from "./executors/runner";
import { destroySandbox, isSandboxRunning, runningSandbox, startSandbox, type StartResult } from "./sandbox";
import { interactiveSshCommand, sshRunAsRoot } from "./host/ssh";
import { describeSandbox, listFleets, listSandboxes, readState, type Sandbox } from "./host/state";

/** The stack a sandbox configured by the real engine has. */
const ENGINE_STACK_NAME = "sandbox";

const COMMANDS = ["up", "deploy", "rollback", "backup", "restore", "status", "destroy"] as const;
export type CliCommand = (typeof COMMANDS)[number];

export interface CliArguments {
    readonly command: CliCommand;
    readonly name: string;
    readonly domain: string;
    readonly verbose: boolean;
    readonly https: boolean;
    /** With restore: the dump to restore (a name in the server's backup directory); the newest when absent. */
    readonly dump?: string;
    /** With restore: the second (UTC) to restore to, from the newest dump before it and the binary logs after it. */
    readonly until?: string;
    /** The fleet sandbox (up, deploy, destroy): several servers, as `topology: ha` runs on AWS. */
    readonly ha: boolean;
    /** up and deploy through the real Pulumi engine running this program, instead of the sandbox's runner. */
    readonly pulumi: boolean;
}

/** How long the site may take to answer its health path once the plan is applied. */
const READY_TIMEOUT_MS = 120_000;

/** The commands the fleet sandbox has. */
const HA_COMMANDS: readonly CliCommand[] = ["up", "deploy", "rollback", "destroy"];
/** The commands that apply the plan, which the real engine can do instead of the runner. */
const PULUMI_COMMANDS: readonly CliCommand[] = ["up", "deploy"];

const USAGE = `usage: npm run sandbox -- [${COMMANDS.join("|")}] [--name=NAME] [--domain=DOMAIN] [--verbose] [--https] [--dump=NAME] [--until=TIME] [--ha] [--pulumi]
  up (the default)  boot or reuse the sandbox server, build the release, apply the whole plan, print the URL
  deploy            build the app release and ship it (upload and deploy steps only)
  rollback          switch the server back to the release that ran before
  backup            dump the server's database now (webstack-backup)
  restore           restore the newest dump, --dump=NAME, or --until='TIME' (UTC), while the site serves (webstack-restore)
  status            show the sandboxes on this host
  destroy           remove the sandbox server and everything it made on this host
  --ha              up, deploy, rollback and destroy the ha topology instead: a load balancer, a database server and app servers configured by cloud-init
  --pulumi          up and deploy with the real Pulumi engine running this program (existing-server mode, state in the sandbox's directory)`;

/** The command and options of a command line (without node and the script); throws with the usage on bad input. */
export function parseCliArguments(argv: readonly string[]): CliArguments {
    let command: CliCommand | undefined;
    let name = DEFAULT_SANDBOX_NAME;
    let domain = DEFAULT_DOMAIN;
    let verbose = false;
    let https = false;
    let dump: string | undefined;
    let until: string | undefined;
    let ha = false;
    let pulumi = false;
    let named = false;
    for (const argument of argv) {
        const option = /^--([a-z]+)(?:=(.*))?$/.exec(argument);
        if (option && option[1] === "name" && option[2] !== undefined) {
            name = checkedSandboxName(option[2]);
            named = true;
        } else if (option && option[1] === "domain" && option[2] !== undefined) {
            domain = checkedSandboxDomain(option[2]);
        } else if (option && option[1] === "dump" && option[2] !== undefined && /^[A-Za-z0-9._-]+$/.test(option[2])) {
            dump = option[2];
        } else if (option && option[1] === "until" && option[2] !== undefined) {
            until = option[2];
        } else if (argument === "--verbose") {
            verbose = true;
        } else if (argument === "--https") {
            https = true;
        } else if (argument === "--ha") {
            ha = true;
        } else if (argument === "--pulumi") {
            pulumi = true;
        } else if (!option && command === undefined && (COMMANDS as readonly string[]).includes(argument)) {
            command = argument as CliCommand;
        } else {
            throw new Error(`Unknown argument "${argument}".\n${USAGE}`);
        }
    }
    if (https && (command ?? "up") !== "up") {
        throw new Error(`--https goes with up (HTTPS is set up with the whole plan).\n${USAGE}`);
    }
    if ((dump !== undefined || until !== undefined) && command !== "restore") {
        throw new Error(`--dump and --until go with restore.\n${USAGE}`);
    }
    if (dump !== undefined && until !== undefined) {
        throw new Error(`Only one of --dump and --until can be given: --until picks the dump itself.\n${USAGE}`);
    }
    if (ha && !HA_COMMANDS.includes(command ?? "up")) {
        throw new Error(`--ha goes with ${HA_COMMANDS.join(", ")}.\n${USAGE}`);
    }
    if (ha && https) {
        throw new Error(`--ha serves HTTPS already (its load balancer terminates it); leave out --https.\n${USAGE}`);
    }
    if (pulumi && !PULUMI_COMMANDS.includes(command ?? "up")) {
        throw new Error(
            `--pulumi goes with ${PULUMI_COMMANDS.join(" and ")}; the other commands work the same on a sandbox the engine configured.\n${USAGE}`,
        );
    }
    if (pulumi && (ha || https)) {
        throw new Error(`--pulumi configures the single server over HTTP; leave out ${ha ? "--ha" : "--https"}.\n${USAGE}`);
    }
    return {
        command: command ?? "up",
        name: ha && !named ? "ha" : name,
        domain,
        verbose,
        https,
        ha,
        pulumi,
        ...(dump === undefined ? {} : { dump }),
        ...(until === undefined ? {} : { until }),
    };
}

/** webstack-restore's arguments for the restore command's options, quoted for the shell. */
export function restoreArguments(options: Pick<CliArguments, "dump" | "until">): string[] {
    if (options.until !== undefined) return ["--until", shellQuote(options.until)];
    return options.dump === undefined ? [] : [shellQuote(options.dump)];
}

/**
 * What to print so that a person can reach the sandbox's site, DNS and shell. `rootCaFile`: the
 * site serves HTTPS with a certificate that chains to that root (pebble's).
 */
export function accessInstructions(sandbox: Sandbox, rootCaFile?: string): string[] {
    const site = wwwHostName(sandbox.domain);
    const [scheme, port, trust] = rootCaFile === undefined ? ["http", 80, ""] : ["https", 443, ` --cacert ${rootCaFile}`];
    return [
        `The site: ${scheme}://${site}/  (server ${sandbox.address})`,
        `  its DNS (the sandbox's Route53):  dig @${sandbox.dnsServer} ${site}`,
        `  without DNS:                      curl${trust} --resolve ${site}:${port}:${sandbox.address} ${scheme}://${site}/`,
        `  a shell on the server:            ${interactiveSshCommand(sandbox.ssh)}`,
    ];
}

function startedSandbox(name: string): Sandbox {
    const sandbox = runningSandbox(name);
    if (sandbox === undefined) {
        throw new Error(
            `Sandbox "${name}" is not running; start it with \`npm run sandbox\`${name === DEFAULT_SANDBOX_NAME ? "" : ` -- --name=${name}`}.`,
        );
    }
    return sandbox;
}

async function applyPlanVisibly(sandbox: Sandbox, plan: Plan, verbose: boolean): Promise<void> {
    const startedAt = Date.now();
    console.log(`applying ${plan.length} steps to ${sandbox.address}`);
    await applyPlan(
        plan,
        sandbox.ssh,
        { domain: sandbox.domain, backupBucket: sandbox.backupBucket },
        { onOutput: verbose ? (_, chunk) => process.stderr.write(chunk) : undefined },
    );
    console.log(`plan applied in ${secondsSince(startedAt)}`);
}

/** Waits until the site answers the release's health path through nginx, over HTTPS when it trusts `trustedCaPem`. */
function waitUntilReady(sandbox: Sandbox, release: Release, trustedCaPem?: string): Promise<void> {
    return waitForHttpOk(
        { address: sandbox.address, hostName: wwwHostName(sandbox.domain), path: release.healthPath, trustedCaPem },
        READY_TIMEOUT_MS,
    );
}

/** Pebble for the sandbox, trusted by its server; the root its certificates chain to is saved for curl. */
async function acmeForSandbox(sandbox: StartResult): Promise<{ tls: TlsSettings; rootCaFile: string; rootCaPem: string }> {
    const acme = await startAcmeServer(sandbox, { reuseRunning: sandbox.reused });
    await trustAcmeServer(sandbox, acme);
    const rootCaFile = join(sandboxPaths(sandbox.name).runtime, "acme-root.pem");
    writeFileSync(rootCaFile, acme.rootCaPem);
    return {
        tls: { email: `admin@${sandbox.domain}`, directoryUrl: acme.directoryUrl, includeApex: true },
        rootCaFile,
        rootCaPem: acme.rootCaPem,
    };
}

/** What to print so that a person can reach the fleet sandbox's site through its load balancer, and its servers. */
export function fleetAccessInstructions(
    fleet: Pick<Fleet, "name" | "url" | "domain" | "loadBalancerAddress" | "dnsServer" | "caFile" | "loadBalancer" | "database">,
    appSlots: readonly number[],
): string[] {
    const site = wwwHostName(fleet.domain);
    return [
        `The site: ${fleet.url}/  (load balancer ${fleet.loadBalancerAddress})`,
        `  its DNS (the sandbox's Route53):  dig @${fleet.dnsServer} ${site}`,
        `  without DNS:                      curl --cacert ${fleet.caFile} --resolve ${site}:443:${fleet.loadBalancerAddress} ${fleet.url}/`,
        `  the load balancer:                ${interactiveSshCommand(fleet.loadBalancer.ssh)}`,
        `  the database server:              ${interactiveSshCommand(fleet.database.ssh)}`,
        `  app servers ${appSlots.map((slot) => memberName(fleet.name, { slot })).join(", ")}: no SSH, as on AWS; a root shell through this machine:`,
        `                                    nsenter --target "$(ip netns pids webstack-${memberName(fleet.name, { slot: appSlots[0] ?? 1 })} | head -n 1)" --all bash`,
    ];
}

async function haUp(options: CliArguments): Promise<void> {
    const release = await buildRelease();
    console.log(`release ${release.id} built: ${release.artifactPath}`);
    const fleet = await startFleet({ name: options.name, domain: options.domain, release });
    console.log(fleetAccessInstructions(fleet, fleet.appServerSlots()).join("\n"));
}

async function haRollBack(options: CliArguments): Promise<void> {
    const fleet = await runningFleet(options.name);
    await fleet.rollBack();
    console.log(`the app servers of ${fleet.url} boot from the launch template's previous version again`);
}

async function haDeploy(options: CliArguments): Promise<void> {
    const fleet = await runningFleet(options.name);
    const release = await buildRelease();
    console.log(`release ${release.id} built: ${release.artifactPath}`);
    await fleet.rollingDeploy(release);
    console.log(`release ${release.id} is live on ${fleet.url}`);
}

/** Where a sandbox configured by the real engine keeps its stack: a file backend and the stack's directory, under its runtime directory. */
function engineStateDir(name: string): string {
    return join(sandboxPaths(name).runtime, "pulumi");
}

/** The sandbox's stack, its passphrase made once and kept beside it (root-only, like the sandbox's keys). */
async function sandboxStack(sandbox: Sandbox): Promise<Stack> {
    const stateDir = engineStateDir(sandbox.name);
    const passphraseFile = join(stateDir, "passphrase");
    if (!existsSync(passphraseFile)) {
        mkdirSync(stateDir, { recursive: true, mode: 0o700 });
        writeFileSync(passphraseFile, randomBytes(24).toString("base64url"), { mode: 0o600 });
    }
    return openEngineStack({
        stateDir,
        stackName: ENGINE_STACK_NAME,
        passphrase: readFileSync(passphraseFile, "utf8"),
        config: existingServerConfig(sandboxServer(sandbox)),
        binDir: ensureEngineBinDir(),
    });
}

/** `pulumi up` of this program against the sandbox, its output shown as it comes (or only its summary). */
async function pulumiUp(sandbox: Sandbox, verbose: boolean): Promise<void> {
    const stack = await sandboxStack(sandbox);
    const startedAt = Date.now();
    console.log(`pulumi up: this program, existing-server mode, stack "${ENGINE_STACK_NAME}" in ${engineStateDir(sandbox.name)}`);
    const result = await stack.up({ onOutput: verbose ? (text) => process.stdout.write(text) : undefined });
    const changes = Object.entries(result.summary.resourceChanges ?? {}).map(([op, count]) => `${count} ${op}`);
    console.log(`pulumi up: ${changes.join(", ")} in ${secondsSince(startedAt)}`);
}

async function up(options: CliArguments): Promise<void> {
    const sandbox = await startSandbox({ name: options.name, domain: options.domain });
    console.log(sandbox.reused ? `reusing the running sandbox "${sandbox.name}"` : `sandbox "${sandbox.name}" is up`);
    const release = await buildRelease();
    console.log(`release ${release.id} built: ${release.artifactPath}`);
    const acme = options.https ? await acmeForSandbox(sandbox) : undefined;
    if (options.pulumi) {
        await pulumiUp(sandbox, options.verbose);
    } else {
        await applyPlanVisibly(sandbox, buildPlan({ release, tls: acme?.tls }), options.verbose);
    }
    await waitUntilReady(sandbox, release, acme?.rootCaPem);
    console.log(accessInstructions(sandbox, acme?.rootCaFile).join("\n"));
}

async function deploy(options: CliArguments): Promise<void> {
    const sandbox = startedSandbox(options.name);
    const release = await buildRelease();
    console.log(`release ${release.id} built: ${release.artifactPath}`);
    if (options.pulumi) {
        await pulumiUp(sandbox, options.verbose);
    } else {
        await applyPlanVisibly(sandbox, releaseSteps(release), options.verbose);
    }
    console.log(`release ${release.id} is live on ${wwwHostName(sandbox.domain)}`);
}

/** Runs one of the server's commands as root and shows its output as it comes. */
async function runOnServer(options: CliArguments, command: string): Promise<void> {
    const sandbox = startedSandbox(options.name);
    await sshRunAsRoot(sandbox.ssh, command, {
        onOutput: (stream, chunk) => (stream === "stderr" ? process.stderr : process.stdout).write(chunk),
    });
}

function status(options: CliArguments): void {
    // A fleet's servers are listed under their fleet, not as sandboxes of their own.
    const names = listSandboxes().filter((name) => readState(name)?.network?.bridge === undefined);
    const fleets = listFleets();
    if (names.length === 0 && fleets.length === 0) {
        console.log("no sandboxes on this host; start one with `npm run sandbox` (or `npm run sandbox -- --ha`)");
        return;
    }
    for (const fleet of fleets) {
        const servers = listSandboxes().filter((name) => name.startsWith(`${fleet}-`));
        console.log(
            `  ${fleet} (ha): ${servers.join(", ")}; drive it with \`npm run sandbox -- deploy --ha${fleet === "ha" ? "" : ` --name=${fleet}`}\` or destroy --ha`,
        );
    }
    for (const name of names) {
        const state = readState(name);
        if (!state) {
            continue;
        }
        const running = isSandboxRunning(state);
        const configuredBy = existsSync(engineStateDir(name))
            ? `; configured by the Pulumi engine, stack "${ENGINE_STACK_NAME}" in ${engineStateDir(name)}`
            : "";
        console.log(
            `${name === options.name ? "*" : " "} ${name}: ${running ? "running" : "stopped (destroy it, or start it again)"} since ${state.createdAt}${configuredBy}`,
        );
        if (running) {
            console.log(
                accessInstructions(describeSandbox(state, sandboxPaths(name)))
                    .map((line) => `    ${line}`)
                    .join("\n"),
            );
        }
    }
}

async function main(argv: readonly string[]): Promise<void> {
    const options = parseCliArguments(argv);
    requireRootOnLinux();
    if (options.ha) {
        switch (options.command) {
            case "deploy":
                return haDeploy(options);
            case "rollback":
                return haRollBack(options);
            case "destroy":
                if (!(await destroyFleet(options.name))) {
                    console.log(`fleet sandbox "${options.name}" does not exist; nothing to destroy`);
                }
                return;
            default:
                return haUp(options);
        }
    }
    switch (options.command) {
        case "up":
            return up(options);
        case "deploy":
            return deploy(options);
        case "rollback":
            return runOnServer(options, ROLLBACK_COMMAND);
        case "backup":
            return runOnServer(options, BACKUP_COMMAND);
        case "restore":
            return runOnServer(options, [RESTORE_COMMAND, ...restoreArguments(options)].join(" "));
        case "status":
            return status(options);
        case "destroy":
            await stopAcmeServer(options.name);
            if (!(await destroySandbox(options.name))) {
                console.log(`sandbox "${options.name}" does not exist; nothing to destroy`);
            }
            return;
    }
}

if (require.main === module) {
    main(process.argv.slice(2)).catch((error: unknown) => {
        console.error(`sandbox: ${error instanceof Error ? error.message : String(error)}`);
        process.exit(1);
    });
}
