import {
    isDomainName,
    isEmailAddress,
    isHttpsUrl,
    isIpv4Address,
    isIpv6Address,
    isKeyPairPublicKey,
    PUBLIC_KEY_MATERIAL,
} from "../provisioning/formats";
import { DEFAULT_SSH_USER } from "../components/remoteProvisioner";
import { EC2_DEFAULTS } from "../components/ec2";
import { DATABASE_BACKUP_RETENTION_BOUNDS, MAX_APP_SERVER_BOUNDS, MIN_APP_SERVER_BOUNDS, WEB_FLEET_DEFAULTS } from "../components/webFleet";
import { WEB_SERVER_DEFAULTS } from "../components/webServer";
import { DAILY_SNAPSHOT_BOUNDS } from "../components/server/snapshots";
import { BACKUP_RETENTION_BOUNDS } from "../components/server/backups";
import type { IntegerBounds } from "../provisioning/settingChecks";
import { APP_INSTANCE_BOUNDS, DEFAULT_APP_INSTANCES } from "../provisioning/layout";
import { API_CACHE_SECONDS_BOUNDS, DEFAULT_API_CACHE_SECONDS } from "../provisioning/files/nginx";
import { DEFAULT_MAINTENANCE_MESSAGE, maintenanceMessageProblem } from "../provisioning/files/maintenance";
import type { ConfigReader, Format } from "./configReader";

/**
 * Every `webstack:` setting, described once: its key, its type and default as the README's
 * configuration reference gives them, the topology that takes it, how its value is checked (with the
 * example a message gives), what it is passed to, and its documentation. The stack config's list of
 * known keys, its topology rules, its reader, the arguments index.ts passes on and the README's table
 * (test/unit/docs/readme.test.ts) all follow from it.
 */

/** `single`: one server (the default); `ha`: a fleet on AWS's load balancer, Auto Scaling and RDS. */
export const TOPOLOGIES = ["single", "ha"] as const;
export type Topology = (typeof TOPOLOGIES)[number];

/** How the reader checks a value of the setting, and the example its message gives. */
export type SettingCheck =
    /** `required` says why a key the reader needs must be set. */
    | { readonly kind: "text"; readonly format: Format; readonly example: string; readonly required?: string }
    | { readonly kind: "integer"; readonly bounds: IntegerBounds }
    | { readonly kind: "boolean"; readonly fallback: boolean }
    | { readonly kind: "list"; readonly format: RegExp; readonly minItems: number; readonly expected: string; readonly example: string }
    | { readonly kind: "cidrs"; readonly example: string }
    /** A text with a rule of its own, whose `problem` says what is wrong with it after the key's name. */
    | { readonly kind: "ruledText"; readonly problem: (text: string) => string | undefined }
    /** Checked together with the keys it goes with, by a function of its own in stackConfig.ts. */
    | { readonly kind: "rules" };

export interface Setting {
    /** The value's type, as the README's table gives it. */
    readonly type: string;
    /** What applies when the key is unset, as the README's table gives it. */
    readonly default: string;
    /** The topology that takes the setting; the other one refuses it. */
    readonly topology: Topology | "both";
    readonly check: SettingCheck;
    /** What takes the value as its argument of the same name: the topology's component (WebServer, WebFleet), or the server's plan (buildPlan's ServerSettings). */
    readonly passedTo?: "component" | "plan";
    /** The README table's one line about it. */
    readonly doc: string;
}

const INSTANCE_TYPE = /^([a-z]+)(\d+)([a-z-]*)\.(nano|micro|small|medium|large|xlarge|\d+xlarge|metal(-\d+xl)?)$/;
const AMI_ID = /^ami-[0-9a-f]{8,17}$/;
const SUBNET_ID = /^subnet-[0-9a-f]{8,17}$/;
const HOSTED_ZONE_ID = /^Z[A-Z0-9]{1,31}$/;
const SSH_USER = /^[a-z_][a-z0-9_-]{0,31}$/;
const DATABASE_INSTANCE_CLASS = /^db\.[a-z0-9]+\.[a-z0-9]+$/;
/** S3's rules for a bucket name: 3 to 63 lower-case letters, digits, dots and dashes, a letter or digit at each end. */
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const AWS_REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;
/** An IAM role's or user's ARN, with or without a path: what a bucket policy's aws:PrincipalArn names. */
const IAM_PRINCIPAL_ARN = /^arn:aws[a-z-]*:iam::\d{12}:(role|user)\/[\w+=,.@/-]+$/;

const EMAIL = { kind: "text", format: isEmailAddress, example: "ops@example.com" } as const;
const RULES = { kind: "rules" } as const;

/** A list of CIDR blocks, with how to set one as its example. */
function cidrs(key: string) {
    return { kind: "cidrs", example: `["203.0.113.7/32"] (pulumi config set --path 'webstack:${key}[0]' 203.0.113.7/32)` } as const;
}

/** A server's address: an IP address or a host name. */
function isServerHost(text: string): boolean {
    return isIpv4Address(text) || isIpv6Address(text) || isDomainName(text);
}

function integer(bounds: IntegerBounds) {
    return { kind: "integer", bounds } as const;
}

function boolean(fallback: boolean) {
    return { kind: "boolean", fallback } as const;
}

/** How the README writes a literal value. */
function code(value: string | number | boolean): string {
    return `\`${value}\``;
}

function integerType(check: { readonly bounds: IntegerBounds }): string {
    return `integer ${check.bounds.min}–${check.bounds.max}`;
}

const ROOT_VOLUME_SIZE = integer({ min: 8, max: 1024, example: WEB_SERVER_DEFAULTS.rootVolumeSizeGiB });
const DNS_TTL = integer({ min: 60, max: 86400, example: WEB_SERVER_DEFAULTS.dnsTtl });
const DAILY_SNAPSHOTS = integer(DAILY_SNAPSHOT_BOUNDS);
const BACKUP_RETENTION_DAYS = integer(BACKUP_RETENTION_BOUNDS);
const APP_INSTANCES = integer(APP_INSTANCE_BOUNDS);
const API_CACHE_SECONDS = integer(API_CACHE_SECONDS_BOUNDS);
const MIN_APP_SERVER_COUNT = integer(MIN_APP_SERVER_BOUNDS);
const MAX_APP_SERVER_COUNT = integer(MAX_APP_SERVER_BOUNDS);
const DATABASE_BACKUP_RETENTION_DAYS = integer(DATABASE_BACKUP_RETENTION_BOUNDS);

/** The settings, in the README table's order. */
export const SETTINGS = {
    domain: {
        type: "string",
        default: "(required)",
        topology: "both",
        check: { kind: "text", format: isDomainName, example: "example.com", required: "the site is served as www.<domain>." },
        doc: "The site's domain. The site is served as `www.<domain>`; the apex redirects to it. A public Route53 hosted zone of that name must exist (or give `hostedZoneId`).",
    },
    sshAllowedCidrs: {
        type: "list of CIDR",
        default: "(required on AWS)",
        topology: "single",
        check: cidrs("sshAllowedCidrs"),
        doc: "IPv4/IPv6 blocks that may reach SSH (22). Nothing else may.",
    },
    allowSshFromAnywhere: {
        type: "boolean",
        default: code(false),
        topology: "single",
        check: boolean(false),
        doc: "Must be `true` for `sshAllowedCidrs` to contain `0.0.0.0/0` or `::/0`.",
    },
    sshPublicKey: {
        type: "string",
        default: "(required on AWS)",
        topology: "single",
        check: {
            kind: "text",
            format: isKeyPairPublicKey,
            example: `"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA... you@laptop" (EC2 imports ssh-ed25519 and ssh-rsa keys only)`,
            required: "the instance's key pair is made from it.",
        },
        doc: "OpenSSH public key (`ssh-ed25519` or `ssh-rsa`: EC2 imports no other kind, and the component refuses ECDSA too) for the instance's key pair.",
    },
    sshPrivateKey: {
        type: "secret",
        default: "not set: the steps log in through the ssh-agent (`SSH_AUTH_SOCK`)",
        topology: "single",
        // Its value is never read: only whether it holds a key (rawStackConfig).
        check: RULES,
        doc: "The matching private key, for a machine without an agent; it is then kept in the state, encrypted. Set with `--secret`. One of the two is required when provisioning. To rotate the key pair, see [Rotating the SSH key](docs/key-rotation.md#rotating-the-ssh-key).",
    },
    sshUser: {
        type: "string",
        default: code(DEFAULT_SSH_USER),
        topology: "single",
        check: { kind: "text", format: SSH_USER, example: DEFAULT_SSH_USER },
        doc: "Login user with passwordless sudo (`admin` on Debian's images).",
    },
    sshHostKey: {
        type: "string",
        default: "on AWS, the key the stack gives the server; required for an existing server",
        topology: "single",
        check: { kind: "text", format: PUBLIC_KEY_MATERIAL, example: `"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA..."` },
        doc: "The server's SSH host key (`ssh-ed25519 AAAA...`), which every step pins: any other key is refused. On AWS, set it only for a server launched before the stack gave its servers their key (see [The server's host key](docs/key-rotation.md#the-servers-host-key)); it pins generation 1 (`serverGenerations`), and later servers have the stack's key.",
    },
    instanceType: {
        type: "string",
        default: code(EC2_DEFAULTS.instanceType),
        topology: "both",
        check: { kind: "text", format: INSTANCE_TYPE, example: EC2_DEFAULTS.instanceType },
        passedTo: "component",
        doc: "EC2 instance type. Graviton types (`t4g.*`, `m7g.*`, `a1.*`, ...) get the arm64 image. A running server keeps its image, so moving it between x86_64 and Graviton is refused before anything changes, with the way to a new server. A fleet keeps its servers' image until the architecture changes, then rolls to the newest Debian image of the new one.",
    },
    amiId: {
        type: "string",
        default: "newest Debian 13",
        topology: "both",
        check: { kind: "text", format: AMI_ID, example: "ami-0123456789abcdef0" },
        passedTo: "component",
        doc: "AMI override. By default the newest official Debian 13 image (owner 136693071363) for the type's architecture; a newer image never replaces a running server by itself. A given AMI is looked up and refused when its architecture is not the type's, in both topologies.",
    },
    subnetId: {
        type: "string",
        default: "default VPC",
        topology: "single",
        check: { kind: "text", format: SUBNET_ID, example: "subnet-0123456789abcdef0" },
        passedTo: "component",
        doc: "A public subnet (routed to an internet gateway) to launch in; the security group goes into its VPC.",
    },
    rootVolumeSizeGiB: {
        type: integerType(ROOT_VOLUME_SIZE),
        default: code(EC2_DEFAULTS.rootVolumeSizeGiB),
        topology: "both",
        check: ROOT_VOLUME_SIZE,
        passedTo: "component",
        doc: "Size of the encrypted gp3 root volume.",
    },
    hostedZoneId: {
        type: "string",
        default: "looked up",
        topology: "both",
        check: { kind: "text", format: HOSTED_ZONE_ID, example: "Z0123456789ABCDEFGHIJ" },
        passedTo: "component",
        doc: "Route53 zone id; by default the public zone named `domain`.",
    },
    createApexRecord: {
        type: "boolean",
        default: code(false),
        topology: "both",
        check: boolean(false),
        passedTo: "component",
        doc: "Also point `<domain>` at the server (nginx redirects it to www).",
    },
    dnsTtl: {
        type: integerType(DNS_TTL),
        default: code(WEB_SERVER_DEFAULTS.dnsTtl),
        topology: "single",
        check: DNS_TTL,
        passedTo: "component",
        doc: "TTL of the A records, in seconds.",
    },
    dailySnapshots: {
        type: integerType(DAILY_SNAPSHOTS),
        default: code(WEB_SERVER_DEFAULTS.dailySnapshots),
        topology: "single",
        check: DAILY_SNAPSHOTS,
        passedTo: "component",
        doc: "Daily EBS snapshots of the root volume kept by Data Lifecycle Manager (with the nightly database dumps on it); `0` turns them off. The schedule is always named `daily`, so a new count still deletes the snapshots made before it (stacks from before that name delete theirs by hand: tag `aws:dlm:lifecycle-schedule-name`).",
    },
    backupRetentionDays: {
        type: integerType(BACKUP_RETENTION_DAYS),
        default: code(WEB_SERVER_DEFAULTS.backupRetentionDays),
        topology: "single",
        check: BACKUP_RETENTION_DAYS,
        passedTo: "component",
        doc: "Days the backup bucket keeps the server's backups, and any version an upload replaced. The server's instance role may put and read objects under its own prefix (`<stack>-webstack/`), never delete one or change the bucket's rules. AWS mode only.",
    },
    alertEmail: {
        type: "email",
        default: "not set",
        topology: "both",
        check: EMAIL,
        passedTo: "component",
        doc: "Turns alerts on (see [Alerts](docs/alerts.md#alerts)): a Route53 health check of the app's health path (`/healthz`) and CloudWatch alarms mailing this address through SNS. AWS mode only.",
    },
    existingServerHost: {
        type: "string",
        default: "not set",
        topology: "single",
        check: { kind: "text", format: isServerHost, example: "203.0.113.10" },
        doc: "Configure this existing server instead of creating one on AWS.",
    },
    backupBucket: {
        type: "string",
        default: "not set",
        topology: "single",
        check: { kind: "text", format: BUCKET_NAME, example: "my-site-backups" },
        doc: "With `existingServerHost`: an S3 bucket of yours the server's backups go to, under `<stack>-webstack/` (the server needs credentials that may write there: an instance profile on EC2). Without it an existing server keeps its backups on its own disk.",
    },
    backupBucketRegion: {
        type: "AWS region",
        default: "not set",
        topology: "single",
        check: { kind: "text", format: AWS_REGION, example: "eu-central-1" },
        doc: "The region of `backupBucket`; the two go together.",
    },
    provision: {
        type: "boolean",
        default: code(true),
        topology: "single",
        check: boolean(true),
        doc: "`false` creates the AWS resources only and leaves the server unconfigured.",
    },
    appInstances: {
        type: integerType(APP_INSTANCES),
        default: code(DEFAULT_APP_INSTANCES),
        topology: "both",
        check: APP_INSTANCES,
        passedTo: "plan",
        doc: "Node.js app processes behind nginx. Two or more let a deploy restart them one at a time without dropping a request.",
    },
    apiCacheSeconds: {
        type: integerType(API_CACHE_SECONDS),
        default: code(DEFAULT_API_CACHE_SECONDS),
        topology: "both",
        check: API_CACHE_SECONDS,
        passedTo: "plan",
        doc: "How long nginx keeps an anonymous API read (the posts list, a post, `/api/version`) for every reader: one request per second reaches the app however many read. `0` turns the cache off. A writer sees their own post at once (the POST's answer sets a short cookie that reads past the cache); another reader may see the list up to this late.",
    },
    maintenance: {
        type: "boolean",
        default: code(false),
        topology: "both",
        check: boolean(false),
        doc: "Maintenance mode as `pulumi up` leaves it: nginx answers every request with a small 503 page (JSON for `/api/`) carrying `Retry-After: 300` and the message, except from `maintenanceAllowedCidrs`; with `ha`, fixed-response rules on the load balancer. On the server, `webstack-maintenance on [--message TEXT] \\| off \\| status` switches it between runs (a server switched off while the config says on is drift, and the next `up` puts it back). `/.well-known/acme-challenge/` always passes, so a certificate still renews; with `ha` the load balancer's fixed response cannot carry `Retry-After`.",
    },
    maintenanceMessage: {
        type: "string, one line, at most 150 characters",
        default: `"${DEFAULT_MAINTENANCE_MESSAGE}"`,
        topology: "both",
        check: { kind: "ruledText", problem: maintenanceMessageProblem },
        doc: "What the maintenance page says.",
    },
    maintenanceAllowedCidrs: {
        type: "list of CIDR blocks",
        default: "none",
        topology: "both",
        check: cidrs("maintenanceAllowedCidrs"),
        doc: "The addresses that still get the site during maintenance (with `ha`, at most 5 blocks).",
    },
    serverGenerations: {
        type: "list of generations",
        default: "`1`",
        topology: "single",
        check: RULES,
        doc: "The servers the stack keeps, the one that serves first, for example `2,1`. A new number first (higher than the one serving) builds a new server with the same plan and moves the site to it under load, losing no write; the old one is kept, stopped. The number of a kept server first again moves back to it; a number dropped from the list deletes that server. At most two kept. An HTTPS site's certificate moves with it. [docs/replacement.md](docs/replacement.md)",
    },
    maintenanceWindow: {
        type: "day and time, UTC",
        default: "none (`ha`: `Sun 03:00`)",
        topology: "both",
        check: RULES,
        doc: "A weekly window, for example `Sun 03:00`. One server reboots in it when an update asked for a reboot (a new kernel), after a fresh backup shipped to the bucket; without it the server never reboots by itself, and the `reboot-pending` alarm says when one is due. With `ha`, the database's hour of maintenance, off its 02:00-02:30 backup. [docs/maintenance.md](docs/maintenance.md)",
    },
    acmeEmail: {
        type: "string",
        default: "not set",
        topology: "single",
        check: { kind: "text", format: isEmailAddress, example: "admin@example.com" },
        doc: "Turns HTTPS on: a Let's Encrypt certificate for `www.<domain>` (and the apex with `createApexRecord`), renewed automatically.",
    },
    acmeDirectoryUrl: {
        type: "https URL",
        default: "Let's Encrypt production",
        topology: "single",
        check: { kind: "text", format: isHttpsUrl, example: "https://acme-staging-v02.api.letsencrypt.org/directory" },
        doc: "ACME directory; use `https://acme-staging-v02.api.letsencrypt.org/directory` first to stay clear of rate limits.",
    },
    topology: {
        type: TOPOLOGIES.map(code).join(" or "),
        default: code("single"),
        topology: "both",
        check: RULES,
        doc: "`ha` runs the site on a load balancer, an Auto Scaling group of app servers and RDS: see [Past one server](docs/ha.md#past-one-server-topology-ha).",
    },
    subnetIds: {
        type: "list of subnet ids",
        default: "default VPC's",
        topology: "ha",
        check: {
            kind: "list",
            format: SUBNET_ID,
            minItems: 2,
            expected: "the ids of at least two public subnets in different availability zones",
            example: `["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"]`,
        },
        passedTo: "component",
        doc: "Public subnets of one VPC in at least two availability zones.",
    },
    minAppServers: {
        type: integerType(MIN_APP_SERVER_COUNT),
        default: code(WEB_FLEET_DEFAULTS.minAppServers),
        topology: "ha",
        check: MIN_APP_SERVER_COUNT,
        passedTo: "component",
        doc: "The fewest app servers. Change it with `pulumi up --refresh` (the deploy workflow refreshes): after a change the provider waits for exactly max(min, the desired capacity in the state).",
    },
    maxAppServers: {
        type: integerType(MAX_APP_SERVER_COUNT),
        default: `the larger of ${code(WEB_FLEET_DEFAULTS.maxAppServers)} and \`minAppServers\``,
        topology: "ha",
        check: MAX_APP_SERVER_COUNT,
        passedTo: "component",
        doc: "The most app servers target tracking scales out to.",
    },
    databaseInstanceClass: {
        type: "string",
        default: code(WEB_FLEET_DEFAULTS.databaseInstanceClass),
        topology: "ha",
        check: { kind: "text", format: DATABASE_INSTANCE_CLASS, example: WEB_FLEET_DEFAULTS.databaseInstanceClass },
        passedTo: "component",
        doc: "The RDS instance class.",
    },
    databaseBackupRetentionDays: {
        type: integerType(DATABASE_BACKUP_RETENTION_DAYS),
        default: code(WEB_FLEET_DEFAULTS.databaseBackupRetentionDays),
        topology: "ha",
        check: DATABASE_BACKUP_RETENTION_DAYS,
        passedTo: "component",
        doc: "Days RDS keeps automated backups, the window a point-in-time restore reaches into.",
    },
    databaseApplyImmediately: {
        type: "boolean",
        default: code(WEB_FLEET_DEFAULTS.databaseApplyImmediately),
        topology: "ha",
        check: boolean(WEB_FLEET_DEFAULTS.databaseApplyImmediately),
        passedTo: "component",
        doc: "Apply a database change that restarts it (its class above all: a Multi-AZ failover of a minute or so) during `pulumi up`, not in the weekly maintenance window (`maintenanceWindow`), until which every preview shows it again: [docs/database-changes.md](docs/database-changes.md).",
    },
    deployerArns: {
        type: "list of strings",
        default: "the plan bucket's creator and whoever runs `pulumi up`",
        topology: "ha",
        check: {
            kind: "list",
            format: IAM_PRINCIPAL_ARN,
            minItems: 1,
            expected: "the ARNs of the IAM roles or users that run Pulumi on this stack (not a session's)",
            example: `["arn:aws:iam::123456789012:role/webstack-deploy", "arn:aws:iam::123456789012:user/alice"]`,
        },
        passedTo: "component",
        doc: "The IAM roles and users that deploy the stack, which with the app servers' role alone may read the plan's objects. Never the preview role: the plan holds the app's environment. `pulumi up` fails, naming the key and the `pulumi config set --path` line, when the list leaves out whoever runs it.",
    },
    appEnvironment: {
        type: "object of strings",
        default: "none",
        topology: "both",
        check: RULES,
        doc: "The app's own environment variables, for example API keys. Set each with `pulumi config set --secret --path 'webstack:appEnvironment.API_TOKEN' <value>`. The program keeps the whole object secret: it reaches a root-only file on the server (`/etc/webstack/app-environment.env`) and is encrypted in the state; a change restarts the instances one at a time. Names the platform sets (`PORT`, `HOST`, `NODE_ENV`, `NODE_OPTIONS`, `RELEASE_ID`, `DB_*`) are refused, and no error message shows a value.",
    },
} as const satisfies Record<string, Setting>;

export type SettingKey = keyof typeof SETTINGS;

/** The keys this program reads, in the `webstack` namespace. Anything else is a typo. */
export const SETTING_KEYS = Object.keys(SETTINGS) as SettingKey[];

/** The keys that `topology` refuses: those only the other topology takes. */
export function keysRefusedBy(topology: Topology): SettingKey[] {
    return SETTING_KEYS.filter((key) => {
        const takenBy = SETTINGS[key].topology;
        return takenBy !== "both" && takenBy !== topology;
    });
}

type CheckOf<K extends SettingKey> = (typeof SETTINGS)[K]["check"];

/** The settings whose check is their description's alone, which {@link readSetting} reads. */
export type CheckedKey = { [K in SettingKey]: CheckOf<K> extends { kind: "rules" } ? never : K }[SettingKey];

/** What {@link readSetting} gives for a setting: undefined when unset or invalid, but a boolean always. */
export type SettingValue<K extends CheckedKey> =
    CheckOf<K> extends { kind: "integer" }
        ? number | undefined
        : CheckOf<K> extends { kind: "boolean" }
          ? boolean
          : CheckOf<K> extends { kind: "list" } | { kind: "cidrs" }
            ? string[] | undefined
            : string | undefined;

/** Reads a setting as its description says, a problem naming the key, the value and the example when it is invalid. */
export function readSetting<K extends CheckedKey>(reader: ConfigReader, key: K): SettingValue<K> {
    // Widened to every kind: the switch needs no case for "rules", which CheckedKey leaves out.
    const check = SETTINGS[key].check as Exclude<SettingCheck, { kind: "rules" }>;
    switch (check.kind) {
        case "text":
            return (
                check.required === undefined
                    ? reader.matching(key, check.format, check.example)
                    : reader.required(key, check.format, check.example, check.required)
            ) as SettingValue<K>;
        case "integer":
            return reader.integer(key, check.bounds) as SettingValue<K>;
        case "boolean":
            return reader.boolean(key, check.fallback) as SettingValue<K>;
        case "list":
            return reader.matchingList(key, check.format, check) as SettingValue<K>;
        case "cidrs":
            return reader.cidrList(key, check.example) as SettingValue<K>;
        case "ruledText":
            return reader.satisfying(key, check.problem) as SettingValue<K>;
    }
}

type PassedKey<To, T extends Topology> = {
    [K in CheckedKey]: (typeof SETTINGS)[K] extends { readonly passedTo: To; readonly topology: T | "both" } ? K : never;
}[CheckedKey];

/** The settings the topology's component takes as its arguments of the same names. */
export type ComponentSettings<T extends Topology> = { readonly [K in PassedKey<"component", T>]: SettingValue<K> };

/** The settings the server's plan takes as its arguments of the same names, in either topology. */
export type PlanSettings = { readonly [K in PassedKey<"plan", Topology>]: SettingValue<K> };

/** The keys passed on to `passedTo`: those the topology takes, or every one when no topology is given. */
function keysPassedTo(passedTo: Setting["passedTo"], topology?: Topology): SettingKey[] {
    return SETTING_KEYS.filter((key) => {
        const setting: Setting = SETTINGS[key];
        return setting.passedTo === passedTo && (topology === undefined || setting.topology === topology || setting.topology === "both");
    });
}

const PLAN_KEYS = keysPassedTo("plan") as PassedKey<"plan", Topology>[];

/** Reads every setting the topology's component takes as an argument. */
export function readComponentSettings<T extends Topology>(reader: ConfigReader, topology: T): ComponentSettings<T> {
    const keys = keysPassedTo("component", topology) as PassedKey<"component", T>[];
    return Object.fromEntries(keys.map((key) => [key, readSetting(reader, key)])) as ComponentSettings<T>;
}

/** Reads every setting the server's plan takes as an argument. */
export function readPlanSettings(reader: ConfigReader): PlanSettings {
    return Object.fromEntries(PLAN_KEYS.map((key) => [key, readSetting(reader, key)])) as PlanSettings;
}

/** The plan's settings among the stack's. */
export function planSettingsOf(settings: PlanSettings): PlanSettings {
    return Object.fromEntries(PLAN_KEYS.map((key) => [key, settings[key]])) as PlanSettings;
}

/** The setting's row in the README's configuration reference. */
export function referenceRow(key: SettingKey): string {
    const setting: Setting = SETTINGS[key];
    const topology = setting.topology === "both" ? "both" : code(setting.topology);
    return `| ${code(key)} | ${setting.type} | ${setting.default} | ${topology} | ${setting.doc} |`;
}
