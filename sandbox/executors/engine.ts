/**
 * The real Pulumi engine (CLI, Node.js language host, pulumi-command's provider) running this
 * repository's own program against a sandbox server, through the Automation API. The program runs in
 * existing-server mode (`webstack:existingServerHost`), which declares no AWS resource: there is no
 * AWS provider here, and no AWS to reach. The stack's state and config live in files under a
 * directory of the caller's, never in the checkout.
 */
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { homedir } from "node:os";
import { delimiter, dirname, join, resolve } from "node:path";
import { parse } from "yaml";
import { runCommand } from "../host/exec";
import type { Sandbox } from "../host/state";
import { LocalWorkspace, PulumiCommand, type ConfigMap, type ProjectSettings, type Stack } from "@pulumi/pulumi/automation";

/** This repository: its Pulumi.yaml and index.ts are the program the engine runs. */
export const REPO_ROOT = resolve(__dirname, "../..");

/** The script that builds the engine from source on machines that cannot download it (../shared/engine). */
export const ENGINE_BUILD_SCRIPT = resolve(REPO_ROOT, "..", "shared", "engine", "build.sh");

/** The CLI's version, which package.json's @pulumi/pulumi pin matches. */
const PULUMI_VERSION = "3.248.0";

/** Where build.sh puts the engine unless told otherwise: `$WEBSTACK_ENGINE_DIR/bin`, else `~/.cache/webstack-engine/bin`. */
export function engineCacheBinDir(env: NodeJS.ProcessEnv = process.env, home: string = homedir()): string {
    return join(env.WEBSTACK_ENGINE_DIR ?? join(home, ".cache", "webstack-engine"), "bin");
}

/**
 * The directory holding the `pulumi` to run: the first on PATH (a workstation's own install, or the
 * build CI puts there), else build.sh's cache; undefined when there is neither.
 */
export function findEngineBinDir(env: NodeJS.ProcessEnv = process.env, exists: (path: string) => boolean = existsSync): string | undefined {
    const candidates = [...(env.PATH ?? "").split(delimiter).filter((dir) => dir !== ""), engineCacheBinDir(env)];
    return candidates.find((dir) => exists(join(dir, "pulumi")));
}

/** What to do when no engine is found. */
export function missingEngineMessage(env: NodeJS.ProcessEnv = process.env): string {
    return [
        "The Pulumi CLI was not found on PATH nor in " + engineCacheBinDir(env) + ".",
        `Build it with its Node.js language host and pulumi-command's provider: bash ${ENGINE_BUILD_SCRIPT}`,
        "(6 to 12 minutes the first time, seconds later), or install Pulumi v" + PULUMI_VERSION + " and put it on PATH.",
    ].join(" ");
}

/** The engine's directory; throws {@link missingEngineMessage} when there is none. */
export function requireEngineBinDir(env: NodeJS.ProcessEnv = process.env): string {
    const found = findEngineBinDir(env);
    if (found === undefined) {
        throw new Error(missingEngineMessage(env));
    }
    return found;
}

/**
 * The engine's directory, built with {@link ENGINE_BUILD_SCRIPT} into its cache when none is found and
 * the script is there (as the tests install the host packages they need); throws
 * {@link missingEngineMessage} otherwise.
 */
export function ensureEngineBinDir(log: (line: string) => void = console.log): string {
    const found = findEngineBinDir();
    if (found !== undefined || !existsSync(ENGINE_BUILD_SCRIPT)) {
        return found ?? requireEngineBinDir();
    }
    log(`building the Pulumi engine with ${ENGINE_BUILD_SCRIPT} (6 to 12 minutes the first time)`);
    const build = spawnSync("bash", [ENGINE_BUILD_SCRIPT], { stdio: "inherit" });
    if (build.status !== 0) {
        throw new Error(`${ENGINE_BUILD_SCRIPT} failed (exit ${build.status}); its output above says why.`);
    }
    return requireEngineBinDir();
}

/**
 * This repository's project (Pulumi.yaml) as a stack directory elsewhere sees it: the same name,
 * runtime and options, with `main` pointing back here, so that the program, its tsconfig and its
 * node_modules are the checkout's own while the stack's config file stays out of it.
 */
export function projectSettingsFor(repoRoot: string): ProjectSettings {
    const project = parse(readFileSync(join(repoRoot, "Pulumi.yaml"), "utf8")) as ProjectSettings;
    return { ...project, main: repoRoot };
}

/** A server that the program configures in existing-server mode. */
export interface ExistingServer {
    /** The apex domain: the site is www.<domain>. */
    readonly domain: string;
    readonly host: string;
    /** The login user, with passwordless sudo. */
    readonly user: string;
    /** The server's host key ("ssh-ed25519 AAAA..."); pulumi-command refuses any other. */
    readonly hostKey: string;
    /**
     * The login user's private key (OpenSSH text), which goes into the stack's config as a secret;
     * left out, the steps log in through the ssh-agent the engine runs with ({@link EngineStackOptions}).
     */
    readonly privateKey?: string;
    /** The bucket its backups go to, when it has one. */
    readonly backupBucket?: { readonly bucket: string; readonly region: string };
}

/** The stack config that points the program at an existing server. */
export function existingServerConfig(server: ExistingServer): ConfigMap {
    return {
        "webstack:domain": { value: server.domain },
        "webstack:existingServerHost": { value: server.host },
        "webstack:sshUser": { value: server.user },
        "webstack:sshHostKey": { value: server.hostKey },
        ...(server.privateKey === undefined ? {} : { "webstack:sshPrivateKey": { value: server.privateKey, secret: true } }),
        ...(server.backupBucket === undefined
            ? {}
            : {
                  "webstack:backupBucket": { value: server.backupBucket.bucket },
                  "webstack:backupBucketRegion": { value: server.backupBucket.region },
              }),
    };
}

/** The ed25519 host key of a known_hosts file's first line for it ("ssh-ed25519 AAAA..."), as pulumi-command takes it. */
export function ed25519HostKey(knownHosts: string): string {
    const line = knownHosts.split("\n").find((entry) => entry.split(/\s+/)[1] === "ssh-ed25519");
    if (line === undefined) {
        throw new Error("The known_hosts file holds no ssh-ed25519 host key; pulumi-command needs one to pin the server.");
    }
    return line.split(/\s+/).slice(1, 3).join(" ");
}

/** How the program reaches a sandbox server: its address, login, pinned ed25519 host key and backup bucket. */
export function sandboxServer(sandbox: Pick<Sandbox, "domain" | "address" | "ssh" | "backupBucket">): ExistingServer {
    return {
        ...(sandbox.backupBucket === undefined
            ? {}
            : { backupBucket: { bucket: sandbox.backupBucket.bucket, region: sandbox.backupBucket.region } }),
        domain: sandbox.domain,
        host: sandbox.address,
        user: sandbox.ssh.user,
        hostKey: ed25519HostKey(readFileSync(sandbox.ssh.knownHostsFile, "utf8")),
        privateKey: readFileSync(sandbox.ssh.identityFile, "utf8"),
    };
}

/** Where a stack driven by {@link openEngineStack} keeps its files. */
export function engineStateLayout(stateDir: string): { backend: string; project: string } {
    return { backend: join(stateDir, "backend"), project: join(stateDir, "project") };
}

/**
 * The environment the engine runs with: its own directory first on PATH (the CLI finds the language
 * host and the command provider there), a file backend, a passphrase for the stack's secrets, no
 * update check (nothing here reaches pulumi.com), and the ssh-agent the steps log in through, when
 * there is one.
 */
export function engineEnvironment(
    binDir: string,
    stateDir: string,
    passphrase: string,
    env: NodeJS.ProcessEnv = process.env,
    sshAuthSock?: string,
): Record<string, string> {
    return {
        ...(sshAuthSock === undefined ? {} : { SSH_AUTH_SOCK: sshAuthSock }),
        PATH: [binDir, env.PATH ?? ""].filter((part) => part !== "").join(delimiter),
        PULUMI_BACKEND_URL: `file://${engineStateLayout(stateDir).backend}`,
        PULUMI_CONFIG_PASSPHRASE: passphrase,
        PULUMI_SKIP_UPDATE_CHECK: "true",
        PULUMI_DIY_BACKEND_NO_LEGACY_WARNING: "true",
    };
}

/** The file a file backend keeps this project's stack's state in: `.pulumi/stacks/<project>/<stack>.json`. */
export function stackStateFile(stateDir: string, stackName: string): string {
    return join(engineStateLayout(stateDir).backend, ".pulumi", "stacks", projectSettingsFor(REPO_ROOT).name, `${stackName}.json`);
}

export interface EngineStackOptions {
    /** Holds the file backend and the stack's directory; created when missing. */
    readonly stateDir: string;
    readonly stackName: string;
    /** Encrypts the stack's secrets (the passphrase secrets provider). */
    readonly passphrase: string;
    /** Config to set on the stack (see {@link existingServerConfig}). */
    readonly config: ConfigMap;
    /** Defaults to {@link requireEngineBinDir}. */
    readonly binDir?: string;
    /** The socket of the ssh-agent the steps log in through (sandbox/executors/sshAgent.ts), when the config holds no private key. */
    readonly sshAuthSock?: string;
    /** The program's directory. Defaults to this repository's own program ({@link REPO_ROOT}). */
    readonly programDir?: string;
}

/**
 * Sets `config` on the stack with no secret on a command line: the Automation API's setConfig and
 * setAllConfig run `pulumi config set` with every value, secrets too, as arguments, which any process
 * of the machine can read (ps). Plain values go that way; each secret goes on the CLI's stdin.
 * `path` reads the keys as paths (`webstack:appEnvironment.API_TOKEN`).
 */
export async function setStackConfig(stack: Stack, config: ConfigMap, options: { path?: boolean } = {}): Promise<void> {
    const workspace = stack.workspace as LocalWorkspace;
    const entries = Object.entries(config);
    const plain = Object.fromEntries(entries.filter(([, value]) => value.secret !== true));
    if (Object.keys(plain).length > 0) {
        await stack.setAllConfig(plain, options.path);
    }
    for (const [key, { value }] of entries.filter(([, entry]) => entry.secret === true)) {
        const path = options.path === true ? ["--path"] : [];
        await runCommand(
            workspace.pulumiCommand.command,
            ["config", "set", "--secret", ...path, "--stack", stack.name, "--cwd", workspace.workDir, "--non-interactive", key],
            { input: value, env: workspace.envVars },
        );
    }
}

/** This repository's program as a stack of the real engine, created or selected, with `config` set ({@link setStackConfig}). */
export async function openEngineStack(options: EngineStackOptions): Promise<Stack> {
    const binDir = options.binDir ?? requireEngineBinDir();
    const layout = engineStateLayout(options.stateDir);
    mkdirSync(layout.backend, { recursive: true });
    mkdirSync(layout.project, { recursive: true });
    const pulumiCommand = await PulumiCommand.get({ root: dirname(binDir) });
    const stack = await LocalWorkspace.createOrSelectStack(
        { stackName: options.stackName, workDir: layout.project },
        {
            workDir: layout.project,
            projectSettings: { ...projectSettingsFor(REPO_ROOT), main: options.programDir ?? REPO_ROOT },
            pulumiCommand,
            envVars: engineEnvironment(binDir, options.stateDir, options.passphrase, process.env, options.sshAuthSock),
        },
    );
    await setStackConfig(stack, options.config);
    return stack;
}
