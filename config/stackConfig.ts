import { DEFAULT_SSH_USER } from "../components/remoteProvisioner";
import { WEB_FLEET_DEFAULTS } from "../components/webFleet";
import { appServerRangeProblem } from "../provisioning/settingChecks";
import { LETS_ENCRYPT_DIRECTORY_URL, type TlsSettings } from "../provisioning";
import { apexDomainProblem, wwwHostName } from "../provisioning/site";
import { appEnvironmentProblems } from "../provisioning/files/appEnvironment";
import type { MaintenanceSettings } from "../provisioning/files/maintenance";
import { formatMaintenanceWindow, parseMaintenanceWindow } from "../provisioning/files/reboots";
import { databaseMaintenanceWindowProblem } from "../components/fleet/database";
import { allowedCidrCountProblem } from "../components/fleet/maintenanceRules";
import { parseServerGenerations, serverGenerationsProblem } from "../components/server/generations";
import { ConfigError, ConfigReader, describeValue, type RawConfig, STACK_CONFIG } from "./configReader";
import {
    type ComponentSettings,
    keysRefusedBy,
    readComponentSettings,
    readPlanSettings,
    type PlanSettings,
    readSetting,
    SETTING_KEYS,
    SETTINGS,
    TOPOLOGIES,
    type Topology,
} from "./settings";

/**
 * Stack configuration: one pure function turns the raw `webstack:*` config values into typed,
 * validated settings. It runs before any resource is declared, so a bad value stops `pulumi up`
 * and `pulumi preview` with a message that names the key, the value and a valid example.
 */

export { ConfigError, type RawConfig };

/** The `ha` topology: a fleet of app servers and a database, on AWS's load balancer, Auto Scaling and RDS. */
export type FleetHosting = { readonly kind: "fleet" } & ComponentSettings<"ha">;

/** The `single` topology on a new EC2 instance: WebServer's settings, the SSH ones required. */
export type NewServerHosting = {
    readonly kind: "new-server";
    readonly sshPublicKey: string;
    readonly sshAllowedCidrs: readonly string[];
    /** The servers the stack keeps, the one that serves first (WebServerArgs.serverGenerations); undefined for the one server of before. */
    readonly serverGenerations?: readonly number[];
} & ComponentSettings<"single">;

/** Where the site runs: one server, new (`new-server`) or existing (`existing-server`), or a fleet behind a load balancer (`fleet`). */
export type Hosting =
    | NewServerHosting
    | {
          readonly kind: "existing-server";
          readonly host: string;
          /** Where the server's backups go, when it has a bucket of its own; they stay on the server otherwise. */
          readonly backupBucket?: { readonly bucket: string; readonly region: string };
      }
    | FleetHosting;

/** The stack's settings; the plan's (appInstances, apiCacheSeconds) among them. */
export interface StackSettings extends PlanSettings {
    readonly domain: string;
    readonly hostName: string;
    readonly hosting: Hosting;
    readonly sshUser: string;
    readonly sshHostKey?: string;
    /** False: create the infrastructure only and leave the server unconfigured (a fleet's servers always configure themselves). */
    readonly provision: boolean;
    readonly tls?: TlsSettings;
    /** The app's own environment; the program keeps it as a secret. */
    readonly appEnvironment?: Readonly<Record<string, string>>;
    /** Maintenance mode as `pulumi up` leaves it; undefined when no maintenance key is set. */
    readonly maintenance?: MaintenanceSettings;
    /** The weekly maintenance window (`Sun 03:00`, UTC): a single server's reboots for updates, a fleet's database's hour. */
    readonly maintenanceWindow?: string;
}

/** True for a block that opens SSH to the whole internet. */
function isAnywhere(cidr: string): boolean {
    return cidr === "0.0.0.0/0" || cidr === "::/0";
}

function readSshAllowedCidrs(reader: ConfigReader): string[] {
    const cidrs = readSetting(reader, "sshAllowedCidrs");
    if (reader.string("sshAllowedCidrs") === undefined || cidrs?.length === 0) {
        reader.problems.push(
            `webstack:sshAllowedCidrs is missing; SSH must be limited to the addresses you deploy from, for example ${SETTINGS.sshAllowedCidrs.check.example}.`,
        );
    }
    if (cidrs === undefined) {
        return [];
    }
    const openToAll = cidrs.filter(isAnywhere);
    if (openToAll.length > 0 && !readSetting(reader, "allowSshFromAnywhere")) {
        reader.problems.push(
            `webstack:sshAllowedCidrs has ${openToAll.map(describeValue).join(" and ")}, which opens SSH to the whole internet; list your own addresses instead (for example 203.0.113.7/32), or set webstack:allowSshFromAnywhere to true if that is really meant.`,
        );
    }
    return cidrs;
}

/** An existing server's backup bucket and its region, which go together. */
function readExistingServerBackupBucket(reader: ConfigReader): { backupBucket?: { bucket: string; region: string } } {
    const bucket = readSetting(reader, "backupBucket");
    const region = readSetting(reader, "backupBucketRegion");
    const given = (key: string) => reader.string(key) !== undefined;
    if (given("backupBucket") !== given("backupBucketRegion")) {
        const missing = given("backupBucket") ? "backupBucketRegion" : "backupBucket";
        reader.problems.push(
            `webstack:${missing} is missing; webstack:backupBucket and webstack:backupBucketRegion go together, for example: pulumi config set webstack:${missing} ${missing === "backupBucket" ? "my-site-backups" : "eu-central-1"}`,
        );
    }
    return bucket !== undefined && region !== undefined ? { backupBucket: { bucket, region } } : {};
}

function readNewServer(reader: ConfigReader): NewServerHosting {
    return {
        kind: "new-server",
        ...readComponentSettings(reader, "single"),
        sshPublicKey: readSetting(reader, "sshPublicKey") ?? "",
        sshAllowedCidrs: readSshAllowedCidrs(reader),
        ...readServerGenerations(reader),
    };
}

/** `webstack:serverGenerations`, "2,1": the servers the stack keeps, the one that serves first. */
function readServerGenerations(reader: ConfigReader): { serverGenerations?: readonly number[] } {
    const text = reader.string("serverGenerations");
    if (text === undefined) {
        return {};
    }
    const problem = serverGenerationsProblem(text);
    if (problem !== undefined) {
        reader.problems.push(`webstack:serverGenerations ${problem}.`);
        return {};
    }
    return { serverGenerations: parseServerGenerations(text) };
}

function readFleet(reader: ConfigReader): FleetHosting {
    const fleet = readComponentSettings(reader, "ha");
    if (fleet.maxAppServers !== undefined) {
        const min = fleet.minAppServers ?? WEB_FLEET_DEFAULTS.minAppServers;
        const rangeProblem = appServerRangeProblem(
            { min: "webstack:minAppServers", max: "webstack:maxAppServers" },
            min,
            fleet.maxAppServers,
        );
        if (rangeProblem !== undefined) {
            reader.problems.push(rangeProblem);
        }
    }
    return { kind: "fleet", ...fleet };
}

/** The topology, and a problem for every setting the other topology alone reads. */
function readTopology(reader: ConfigReader, hasPrivateKey: boolean): Topology {
    const value = reader.string("topology") ?? "single";
    if (!(TOPOLOGIES as readonly string[]).includes(value)) {
        reader.problems.push(`webstack:topology is ${describeValue(value)}; expected ${TOPOLOGIES.join(" or ")}, for example single.`);
        return "single";
    }
    const topology = value as Topology;
    // The private key's value never reaches the reader (rawStackConfig): only whether it is set.
    const isSet = (key: string) => (key === "sshPrivateKey" ? hasPrivateKey : reader.string(key) !== undefined);
    for (const key of keysRefusedBy(topology).filter(isSet)) {
        const why =
            topology === "ha"
                ? "a fleet's servers configure themselves at first boot (nobody logs in), ACM issues the certificate, RDS keeps the backups and the records are aliases of the load balancer"
                : "it sizes the ha topology's fleet";
        reader.problems.push(
            `webstack:${key} does not apply with webstack:topology ${topology}: ${why}. Remove it: pulumi config rm webstack:${key}`,
        );
    }
    return topology;
}

function readTls(reader: ConfigReader): TlsSettings | undefined {
    const email = readSetting(reader, "acmeEmail");
    const directoryUrl = readSetting(reader, "acmeDirectoryUrl");
    if (reader.string("acmeDirectoryUrl") !== undefined && reader.string("acmeEmail") === undefined) {
        reader.problems.push(
            "webstack:acmeDirectoryUrl is set but webstack:acmeEmail is not; HTTPS is turned on by setting webstack:acmeEmail, for example admin@example.com.",
        );
    }
    return email === undefined ? undefined : { email, directoryUrl: directoryUrl ?? LETS_ENCRYPT_DIRECTORY_URL };
}

/** The app's environment: an object of names and values. Its values may be secrets, so no message quotes them. */
function readAppEnvironment(reader: ConfigReader): Record<string, string> | undefined {
    const value = reader.string("appEnvironment");
    if (value === undefined) {
        return undefined;
    }
    const howToSet = "pulumi config set --secret --path 'webstack:appEnvironment.API_TOKEN' <value>";
    let parsed: unknown;
    try {
        parsed = JSON.parse(value);
    } catch {
        parsed = undefined;
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
        reader.problems.push(
            `webstack:appEnvironment is not an object of names and values (the value is not shown: it may hold secrets); set each variable with: ${howToSet}.`,
        );
        return undefined;
    }
    const problems = appEnvironmentProblems(parsed as Record<string, string>);
    for (const problem of problems) {
        reader.problems.push(`webstack:appEnvironment: ${problem}.`);
    }
    return problems.length > 0 ? undefined : (parsed as Record<string, string>);
}

/** Maintenance mode; undefined when none of its keys is set. A fleet's rule on the load balancer takes five blocks at most. */
function readMaintenance(reader: ConfigReader, topology: Topology): MaintenanceSettings | undefined {
    const enabled = readSetting(reader, "maintenance");
    const message = readSetting(reader, "maintenanceMessage");
    const allowedCidrs = readSetting(reader, "maintenanceAllowedCidrs");
    const countProblem = topology === "ha" ? allowedCidrCountProblem("webstack:maintenanceAllowedCidrs", allowedCidrs ?? []) : undefined;
    if (countProblem !== undefined) {
        reader.problems.push(countProblem);
    }
    if (["maintenance", "maintenanceMessage", "maintenanceAllowedCidrs"].every((key) => reader.string(key) === undefined)) {
        return undefined;
    }
    return { enabled, message, allowedCidrs };
}

/** The weekly window, as written in the canonical form; for a fleet, one whose database hour RDS takes. */
function readMaintenanceWindow(reader: ConfigReader, topology: Topology): string | undefined {
    const text = reader.string("maintenanceWindow");
    if (text === undefined) {
        return undefined;
    }
    const window = parseMaintenanceWindow(text);
    if ("problem" in window) {
        reader.problems.push(`webstack:maintenanceWindow ${window.problem}.`);
        return undefined;
    }
    const databaseProblem = topology === "ha" ? databaseMaintenanceWindowProblem(window) : undefined;
    if (databaseProblem !== undefined) {
        reader.problems.push(`webstack:maintenanceWindow ${databaseProblem}.`);
        return undefined;
    }
    return formatMaintenanceWindow(window);
}

function reportUnknownKeys(raw: RawConfig, reader: ConfigReader): void {
    const known: readonly string[] = SETTING_KEYS;
    for (const key of Object.keys(raw).filter((name) => !known.includes(name))) {
        reader.problems.push(`webstack:${key} is not a setting of this program; the settings are: ${SETTING_KEYS.join(", ")}.`);
    }
}

/** What stands in for a key in the stack's config when a server is configured over SSH. */
export interface KeylessLogin {
    /** An ssh-agent runs (SSH_AUTH_SOCK is set): the steps log in through it. */
    readonly sshAgent: boolean;
    /** `webstack:sshPrivateKey` is {@link PREVIEW_KEY_PLACEHOLDER}: a preview, which never logs in. */
    readonly previewPlaceholder: boolean;
}

const NO_KEYLESS_LOGIN: KeylessLogin = { sshAgent: false, previewPlaceholder: false };

/**
 * Validates the stack's config. `hasPrivateKey` says whether the secret `webstack:sshPrivateKey`
 * holds a key (its value is never read here), `keyless` what else lets the steps log in. Throws a
 * {@link ConfigError} listing every problem.
 */
export function parseStackConfig(raw: RawConfig, hasPrivateKey: boolean, keyless: KeylessLogin = NO_KEYLESS_LOGIN): StackSettings {
    const reader = new ConfigReader(raw, STACK_CONFIG);
    reportUnknownKeys(raw, reader);
    const domain = readSetting(reader, "domain") ?? "";
    const domainProblem = domain === "" ? undefined : apexDomainProblem(domain);
    if (domainProblem !== undefined) {
        reader.problems.push(`webstack:domain is ${describeValue(domain)}; it ${domainProblem}.`);
    }
    const topology = readTopology(reader, hasPrivateKey);
    const existingHost = readSetting(reader, "existingServerHost");
    const hosting: Hosting =
        topology === "ha"
            ? readFleet(reader)
            : reader.string("existingServerHost") === undefined
              ? readNewServer(reader)
              : { kind: "existing-server", host: existingHost ?? "", ...readExistingServerBackupBucket(reader) };
    if (hosting.kind === "new-server") {
        for (const key of ["backupBucket", "backupBucketRegion"].filter((name) => reader.string(name) !== undefined)) {
            reader.problems.push(
                `webstack:${key} goes with webstack:existingServerHost: a server this stack creates gets a backup bucket of its own (the backupBucket output). Remove it: pulumi config rm webstack:${key}`,
            );
        }
    }
    if (hosting.kind === "existing-server" && reader.string("serverGenerations") !== undefined) {
        reader.problems.push(
            "webstack:serverGenerations is set with webstack:existingServerHost; the stack moves the site only between EC2 instances it creates. Remove it: pulumi config rm webstack:serverGenerations",
        );
    }
    if (hosting.kind === "existing-server" && reader.string("alertEmail") !== undefined) {
        reader.problems.push(
            "webstack:alertEmail is set with webstack:existingServerHost; the alerts watch the EC2 instance this program creates. Remove it (pulumi config rm webstack:alertEmail), or watch your own server yourself.",
        );
    }
    const provision = hosting.kind !== "fleet" && readSetting(reader, "provision");
    if ((provision || hosting.kind === "existing-server") && !hasPrivateKey && !keyless.sshAgent && !keyless.previewPlaceholder) {
        reader.problems.push(
            'the server is configured over SSH, but no ssh-agent runs (SSH_AUTH_SOCK is unset) and webstack:sshPrivateKey is not set. Load the key into an agent, which keeps it out of the stack: eval "$(ssh-agent)" && ssh-add ~/.ssh/id_ed25519; or set it: pulumi config set --secret webstack:sshPrivateKey < ~/.ssh/id_ed25519 (or set webstack:provision to false).',
        );
    }
    const tls = readTls(reader);
    if (hosting.kind === "new-server" && !provision && (hosting.serverGenerations?.length ?? 1) > 1) {
        reader.problems.push(
            `webstack:serverGenerations lists ${hosting.serverGenerations?.length} servers, but the site moves between servers through the commands its plan installs, and webstack:provision is false; keep one server.`,
        );
    }
    const settings: StackSettings = {
        domain,
        hostName: wwwHostName(domain),
        hosting,
        sshUser: readSetting(reader, "sshUser") ?? DEFAULT_SSH_USER,
        sshHostKey: readSetting(reader, "sshHostKey"),
        provision: provision || hosting.kind === "existing-server",
        ...readPlanSettings(reader),
        tls,
        appEnvironment: readAppEnvironment(reader),
        maintenance: readMaintenance(reader, topology),
        maintenanceWindow: readMaintenanceWindow(reader, topology),
    };
    return reader.checked(settings);
}

const NAMESPACE = "webstack:";
const PRIVATE_KEY = `${NAMESPACE}sshPrivateKey`;

/**
 * What a preview without the SSH key (a pull request's) sets as `webstack:sshPrivateKey`: a preview
 * never dials the server, so it needs no key. The steps' diff then shows their connection changed
 * besides what changed in them (keeping the recorded key with ignoreChanges made the engine hand the
 * real key back in plain text to the program's debug log). `pulumi up` refuses it.
 */
export const PREVIEW_KEY_PLACEHOLDER = "preview-only: no SSH key";

/** Throws when the stack's private key is {@link PREVIEW_KEY_PLACEHOLDER} and this run would change resources. */
export function refusePreviewPlaceholder(allConfig: Readonly<Record<string, string>>, isPreview: boolean): void {
    if (allConfig[PRIVATE_KEY] === PREVIEW_KEY_PLACEHOLDER && !isPreview) {
        throw new ConfigError([
            `${PRIVATE_KEY} is the pull-request preview's placeholder, which can preview but never configure a server. Set the real key with: pulumi config set --secret ${PRIVATE_KEY} < ~/.ssh/id_ed25519`,
        ]);
    }
}

/**
 * Picks this program's keys out of the whole stack config (`pulumi.runtime.allConfig()`). The
 * private key's value is left out: only whether it holds a key, or the preview's placeholder for
 * one, matters before any resource exists.
 */
export function rawStackConfig(allConfig: Readonly<Record<string, string>>): {
    raw: RawConfig;
    hasPrivateKey: boolean;
    hasPreviewPlaceholder: boolean;
} {
    const raw: Record<string, string> = {};
    for (const [key, value] of Object.entries(allConfig)) {
        if (key.startsWith(NAMESPACE) && key !== PRIVATE_KEY) {
            raw[key.slice(NAMESPACE.length)] = value;
        }
    }
    const privateKey = allConfig[PRIVATE_KEY] ?? "";
    const hasPreviewPlaceholder = privateKey === PREVIEW_KEY_PLACEHOLDER;
    return { raw, hasPrivateKey: privateKey !== "" && !hasPreviewPlaceholder, hasPreviewPlaceholder };
}

/**
 * The program's settings from the whole stack config, as `pulumi preview` or `up` runs it
 * (`isPreview`), with or without an ssh-agent: what index.ts reads, and what the workflow tests
 * feed with the config each workflow leaves. Throws a {@link ConfigError}.
 */
export function readStackSettings(
    allConfig: Readonly<Record<string, string>>,
    run: { isPreview: boolean; hasSshAgent: boolean },
): StackSettings {
    const { raw, hasPrivateKey, hasPreviewPlaceholder } = rawStackConfig(allConfig);
    const settings = parseStackConfig(raw, hasPrivateKey, { sshAgent: run.hasSshAgent, previewPlaceholder: hasPreviewPlaceholder });
    refusePreviewPlaceholder(allConfig, run.isPreview);
    return settings;
}
