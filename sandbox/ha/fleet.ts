import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildFleetPlan, RUN_AS_ROOT, type FleetInputs, type Release } from "../../provisioning";
import { contentSha256, PLAN_INDEX_KEY, planObjects, renderFirstBootUserData, renderPlanIndex } from "../../provisioning/cloudInit";
import { LOAD_BALANCER_HEALTH_PATH } from "../../provisioning/files/nginx";
import { APP_DATABASE, APP_USER, FLEET_APP_DATABASE_USER } from "../../provisioning/layout";
import { siteUrl, wwwHostName } from "../../provisioning/site";
import { ensureBaseImage } from "../baseImage";
import { resolvConfNameservers, startDnsServer, stopDnsServer, validateDomain } from "../dns";
import { pollUntil, runCommand, secondsSince, sleep } from "../exec";
import { ensureHostPackages, isProcessAlive, requireRootOnLinux, withHostLock } from "../host";
import { FLEET_STATE_FILE, fleetRuntimeDir, sandboxPaths, validateSandboxName } from "../layout";
import {
    allocateSubnetIndex,
    createSharedSubnet,
    enableEgress,
    hostSubnetIndexes,
    removeSharedSubnet,
    sharedSubnet,
    sharedSubnetAddress,
    sharedSubnetMember,
    type SharedSubnet,
} from "../network";
import {
    describeSandbox,
    destroySandbox,
    disableEgressWhenUnused,
    isSandboxRunning,
    listSandboxes,
    readState,
    runInGuest,
    startSubnetMember,
    type Sandbox,
} from "../sandbox";
import { sshRun, sshRunAsRoot } from "../ssh";
import { putObjectVersion, type AwsStandInConfig } from "./awsStandInDaemon";
import { createCertificateAuthority, issueCertificate, type CertificateAuthority } from "./certificates";
import { ensureCloudInitLayer, noCloudSeedFiles } from "./cloudInit";
import { databaseSetupScript } from "./database";
import { adminCommand, loadBalancerSetupScript, registrationCommand, renderHaproxyConfig, TARGET_BACKEND, targetsUp } from "./loadBalancer";

/**
 * The ha sandbox: the ha topology on this machine, one server per AWS part on one shared subnet (the
 * VPC): a load balancer (HAProxy, for the ALB), a database server (MariaDB over TLS, for RDS), and app
 * servers that boot with real cloud-init from exactly the user data the launch template carries,
 * fetching their plan from stand-ins for S3, Secrets Manager and the metadata service that answer at
 * AWS's own names. The fleet adds, deregisters and removes app servers as Auto Scaling does.
 */

/** The region the stand-ins answer for; the user data names it as it would an AWS region. */
export const SANDBOX_REGION = "eu-central-1";
export const SANDBOX_BUCKET = "webstack-sandbox-plan";
export const SANDBOX_DATABASE_HOST = `webstack-sandbox.abcdefghij.${SANDBOX_REGION}.rds.amazonaws.com`;
/** The master user's secret, as RDS names the one it manages. */
export const SANDBOX_MASTER_SECRET_ARN = `arn:aws:secretsmanager:${SANDBOX_REGION}:000000000000:secret:rds!db-webstack-sandbox`;
/** The app user's secret, as the stack makes it. */
export const SANDBOX_APP_SECRET_ARN = `arn:aws:secretsmanager:${SANDBOX_REGION}:000000000000:secret:webstack-sandbox-app-db-credentials-AbCdEf`;
/** The app server slots the load balancer knows: a rolling deploy starts the new servers in free slots, then stops the old ones. */
export const APP_SLOTS = [1, 2, 3, 4] as const;
const LOAD_BALANCER_HOST_NUMBER = 2;
const DATABASE_HOST_NUMBER = 3;
const FIRST_APP_HOST_NUMBER = 10;
const METADATA_PORT = 8169;
const HEALTH_CHECK_INTERVAL_SECONDS = 2;
/** How long a deregistered target keeps its requests before it is stopped (the ALB's deregistration delay, shortened). */
const DEREGISTRATION_WAIT_MS = 3_000;
const FIRST_BOOT_WAIT_MS = 600_000;
const TARGET_WAIT_MS = 120_000;
const STAND_IN_WAIT_MS = 10_000;

export interface FleetState {
    readonly name: string;
    readonly domain: string;
    readonly subnetIndex: number;
    readonly createdAt: string;
    readonly standInPid?: number;
    /** The launch template's versions, oldest first: the user data each release published. */
    readonly launchTemplateVersions: readonly string[];
    /** The launch template version (1-based) the group launches: what a new app server boots with. */
    readonly groupVersion?: number;
    /** The app slots whose servers are in service. */
    readonly liveSlots: readonly number[];
}

/** Where the fleet `name` keeps its files on the host. */
export function fleetPaths(name: string) {
    const runtime = fleetRuntimeDir(name);
    return {
        runtime,
        stateFile: join(runtime, FLEET_STATE_FILE),
        certificates: join(runtime, "certificates"),
        caFile: join(runtime, "certificates", "ca.pem"),
        objectsDir: join(runtime, "objects"),
        secretsFile: join(runtime, "secrets.json"),
        standInConfig: join(runtime, "aws-stand-in.json"),
        standInPidFile: join(runtime, "aws-stand-in.pid"),
        standInLog: join(runtime, "aws-stand-in.log"),
        dnsmasqConfig: join(runtime, "dnsmasq.conf"),
        dnsmasqPidFile: join(runtime, "dnsmasq.pid"),
        dnsmasqLog: join(runtime, "dnsmasq.log"),
    };
}

/** The members' sandbox names: `<fleet>-lb`, `<fleet>-db`, `<fleet>-app<slot>`. */
export function memberName(fleet: string, member: "lb" | "db" | { slot: number }): string {
    return typeof member === "string" ? `${fleet}-${member}` : `${fleet}-app${member.slot}`;
}

/** Where each member sits on the shared subnet. */
export function memberHostNumber(member: "lb" | "db" | { slot: number }): number {
    return member === "lb" ? LOAD_BALANCER_HOST_NUMBER : member === "db" ? DATABASE_HOST_NUMBER : FIRST_APP_HOST_NUMBER + member.slot;
}

/** The load balancer's name for the target in a slot. */
export function targetName(slot: number): string {
    return `app${slot}`;
}

/** The names the sandbox's DNS answers besides the site's: the database, and S3 and Secrets Manager at the host (their stand-ins). */
export function fleetHostRecords(subnet: SharedSubnet): { names: string[]; address: string }[] {
    return [
        { names: [SANDBOX_DATABASE_HOST], address: sharedSubnetAddress(subnet, DATABASE_HOST_NUMBER) },
        {
            names: [`${SANDBOX_BUCKET}.s3.${SANDBOX_REGION}.amazonaws.com`, `secretsmanager.${SANDBOX_REGION}.amazonaws.com`],
            address: subnet.hostAddress,
        },
    ];
}

/** The nftables table that sends the app servers' metadata requests (169.254.169.254:80) to the stand-in on the host. */
export function metadataRedirectRuleset(subnet: SharedSubnet): string {
    const table = metadataTable(subnet);
    return [
        `table ip ${table}`,
        `delete table ip ${table}`,
        `table ip ${table} {`,
        "  chain prerouting {",
        "    type nat hook prerouting priority dstnat; policy accept;",
        `    iifname "${subnet.bridge}" ip daddr 169.254.169.254 tcp dport 80 dnat to ${subnet.hostAddress}:${METADATA_PORT}`,
        "  }",
        "}",
        "",
    ].join("\n");
}

function metadataTable(subnet: SharedSubnet): string {
    return `webstack_metadata_${subnet.subnetIndex}`;
}

/** What the fleet's app servers learn from the infrastructure, as WebFleet gives it from AWS. */
export function sandboxFleetInputs(subnet: SharedSubnet, caPem: string): FleetInputs {
    return {
        region: SANDBOX_REGION,
        loadBalancerCidrs: [subnet.cidr],
        database: {
            host: SANDBOX_DATABASE_HOST,
            port: 3306,
            name: APP_DATABASE,
            masterSecretArn: SANDBOX_MASTER_SECRET_ARN,
            appSecretArn: SANDBOX_APP_SECRET_ARN,
            tlsCa: caPem,
        },
    };
}

function readFleetState(name: string): FleetState | undefined {
    const { stateFile } = fleetPaths(name);
    return existsSync(stateFile) ? (JSON.parse(readFileSync(stateFile, "utf8")) as FleetState) : undefined;
}

function writeFleetState(state: FleetState): void {
    const paths = fleetPaths(state.name);
    mkdirSync(paths.runtime, { recursive: true, mode: 0o700 });
    writeFileSync(paths.stateFile, `${JSON.stringify(state, null, 2)}\n`);
}

/** A running fleet, as the CLI and the tests drive it. */
export interface Fleet {
    readonly name: string;
    readonly domain: string;
    readonly subnet: SharedSubnet;
    /** https://www.<domain> */
    readonly url: string;
    readonly loadBalancerAddress: string;
    readonly dnsServer: string;
    /** The sandbox CA (PEM) the load balancer's certificate chains to. */
    readonly caPem: string;
    readonly caFile: string;
    readonly loadBalancer: Sandbox;
    readonly database: Sandbox;
    /** The slots of the app servers in service. */
    appServerSlots(): number[];
    /** Runs a root command on the app server in `slot` through the host (its console): app servers take no SSH, as on AWS. */
    onAppServer(slot: number, command: string): Promise<string>;
    /** The load balancer's targets that pass their health checks. */
    healthyTargets(): Promise<string[]>;
    /**
     * Publishes the release's plan as new versions of the plan objects (the earlier ones stay, as in
     * the versioned bucket), and returns the launch template version whose user data boots it.
     */
    publish(release: Release): Promise<number>;
    /** Boots an app server in `slot` from a launch template version (the group's by default) and waits until the load balancer finds it healthy. */
    launchAppServer(slot: number, launchTemplateVersion?: number): Promise<void>;
    /** Takes the server in `slot` out of the load balancer, lets its requests finish, and powers it off (Auto Scaling's termination). */
    terminateAppServer(slot: number): Promise<void>;
    /** Powers the server in `slot` off at once, without deregistering it first (a failed instance). */
    powerOffAppServer(slot: number): Promise<void>;
    /** Replaces every app server by one of `release`, never lowering healthy capacity (the instance refresh). */
    rollingDeploy(release: Release, log?: (line: string) => void): Promise<void>;
    /**
     * Replaces every app server by one of the launch template's version before the group's, never
     * lowering healthy capacity: an instance refresh to the previous version (docs/fleet-rollback.md).
     */
    rollBack(log?: (line: string) => void): Promise<void>;
    /** Reboots the database server (a Multi-AZ failover or a maintenance reboot). */
    rebootDatabase(): Promise<void>;
}

/** Removes the fleet `name` and all its servers; nothing left is fine. Returns false when there was nothing. */
export async function destroyFleet(name: string, log: (line: string) => void = console.log): Promise<boolean> {
    requireRootOnLinux();
    const paths = fleetPaths(name);
    const state = readFleetState(name);
    const members = listSandboxes().filter((member) => member.startsWith(`${name}-`) && readState(member)?.network?.bridge !== undefined);
    for (const member of members) {
        await destroySandbox(member, () => undefined);
    }
    if (state?.standInPid !== undefined && isProcessAlive(state.standInPid)) {
        process.kill(state.standInPid, "SIGTERM");
    }
    await stopDnsServer(paths.dnsmasqPidFile);
    if (state) {
        const subnet = sharedSubnet(state.subnetIndex);
        await runCommand("nft", ["delete", "table", "ip", metadataTable(subnet)], { allowFailure: true });
        await removeSharedSubnet(subnet);
    }
    const existed = state !== undefined || members.length > 0;
    await withHostLock(async () => {
        rmSync(paths.runtime, { recursive: true, force: true });
        await disableEgressWhenUnused();
    });
    if (existed) {
        log(`ha sandbox "${name}" destroyed`);
    }
    return existed;
}

async function startStandIns(paths: ReturnType<typeof fleetPaths>, subnet: SharedSubnet, ca: CertificateAuthority): Promise<number> {
    const certificate = await issueCertificate(ca, paths.certificates, "aws", fleetHostRecords(subnet)[1].names);
    mkdirSync(paths.objectsDir, { recursive: true, mode: 0o700 });
    const config: AwsStandInConfig = {
        address: subnet.hostAddress,
        metadataPort: METADATA_PORT,
        httpsPort: 443,
        certificateFile: certificate.certFile,
        keyFile: certificate.keyFile,
        objectsDir: paths.objectsDir,
        secretsFile: paths.secretsFile,
        pidFile: paths.standInPidFile,
    };
    writeFileSync(paths.standInConfig, JSON.stringify(config, null, 2));
    const log = openSync(paths.standInLog, "a");
    try {
        const child = spawn(process.execPath, [require.resolve("tsx/cli"), join(__dirname, "awsStandInDaemon.ts"), paths.standInConfig], {
            detached: true,
            stdio: ["ignore", log, log],
        });
        child.unref();
        const started = await pollUntil(async () => (existsSync(paths.standInPidFile) ? true : undefined), {
            timeoutMs: STAND_IN_WAIT_MS,
            intervalMs: 100,
            worthWaiting: () => child.exitCode === null,
        });
        if (started === undefined) {
            throw new Error(`The AWS stand-ins did not start; see ${paths.standInLog}.`);
        }
        await runCommand("nft", ["-f", "-"], { input: metadataRedirectRuleset(subnet) });
        return child.pid ?? 0;
    } finally {
        closeSync(log);
    }
}

/**
 * Boots the ha sandbox `name` for `domain` with `release` on two app servers, from scratch (anything
 * left of a fleet of that name is removed first), and returns it once the load balancer serves the
 * release from both. A failed start leaves nothing behind.
 */
export async function startFleet(options: {
    name?: string;
    domain: string;
    release: Release;
    log?: (line: string) => void;
}): Promise<Fleet> {
    const name = validateSandboxName(options.name ?? "ha");
    const domain = validateDomain(options.domain);
    const log = options.log ?? console.log;
    requireRootOnLinux();
    await ensureHostPackages(log);
    await destroyFleet(name, () => undefined);
    try {
        return await bootFleet(name, domain, options.release, log);
    } catch (error) {
        await destroyFleet(name, () => undefined);
        throw error;
    }
}

async function bootFleet(name: string, domain: string, release: Release, log: (line: string) => void): Promise<Fleet> {
    const startedAt = Date.now();
    const paths = fleetPaths(name);
    const baseImage = await ensureBaseImage(log);
    const cloudInitLayer = await ensureCloudInitLayer(baseImage, log);
    const subnet = await withHostLock(async () => {
        const taken = [...listSandboxes().map((other) => readState(other)?.subnetIndex ?? 0), ...(await hostSubnetIndexes())];
        const allocated = sharedSubnet(allocateSubnetIndex(taken));
        writeFleetState({
            name,
            domain,
            subnetIndex: allocated.subnetIndex,
            createdAt: new Date().toISOString(),
            launchTemplateVersions: [],
            liveSlots: [],
        });
        await createSharedSubnet(allocated);
        await enableEgress();
        return allocated;
    });
    const network = (member: "lb" | "db" | { slot: number }) =>
        sharedSubnetMember(subnet, memberName(name, member), memberHostNumber(member));
    await startDnsServer(paths.dnsmasqConfig, {
        domain,
        listenAddress: subnet.hostAddress,
        serverAddress: network("lb").guestAddress,
        upstreamResolvers: resolvConfNameservers(readFileSync("/etc/resolv.conf", "utf8")),
        pidFile: paths.dnsmasqPidFile,
        logFile: paths.dnsmasqLog,
        hostRecords: fleetHostRecords(subnet),
    });
    const ca = await createCertificateAuthority(paths.certificates, `webstack ha sandbox ${name}`);
    // As on AWS: RDS makes the master user's password, the stack the app user's; neither is the other's.
    const password = randomBytes(24).toString("hex");
    const secrets = {
        [SANDBOX_MASTER_SECRET_ARN]: JSON.stringify({ username: APP_USER, password }),
        [SANDBOX_APP_SECRET_ARN]: JSON.stringify({ username: FLEET_APP_DATABASE_USER, password: randomBytes(24).toString("hex") }),
    };
    writeFileSync(paths.secretsFile, JSON.stringify(secrets), { mode: 0o600 });
    const standInPid = await startStandIns(paths, subnet, ca);
    writeFleetState({ ...(readFleetState(name) as FleetState), standInPid });

    const [database, loadBalancer] = await Promise.all([
        startSubnetMember({ name: memberName(name, "db"), domain, network: network("db"), image: { lowerDirs: [baseImage] }, log }),
        startSubnetMember({ name: memberName(name, "lb"), domain, network: network("lb"), image: { lowerDirs: [baseImage] }, log }),
    ]);
    const databaseCertificate = await issueCertificate(ca, paths.certificates, "database", [SANDBOX_DATABASE_HOST]);
    const siteCertificate = await issueCertificate(ca, paths.certificates, "site", [wwwHostName(domain), domain]);
    const targets = APP_SLOTS.map((slot) => ({ name: targetName(slot), address: network({ slot }).guestAddress }));
    await Promise.all([
        sshRun(database.ssh, RUN_AS_ROOT, {
            input: databaseSetupScript({ certificatePem: databaseCertificate.certPem, keyPem: databaseCertificate.keyPem, password }),
        }),
        sshRun(loadBalancer.ssh, RUN_AS_ROOT, {
            input: loadBalancerSetupScript(
                renderHaproxyConfig({
                    targets,
                    healthPath: LOAD_BALANCER_HEALTH_PATH,
                    healthCheckIntervalSeconds: HEALTH_CHECK_INTERVAL_SECONDS,
                }),
                `${siteCertificate.certPem}${siteCertificate.keyPem}`,
            ),
        }),
    ]);
    log(`load balancer ${loadBalancer.address} and database ${database.address} are up`);

    const fleet = fleetHandle({ name, domain, subnet, paths, ca, loadBalancer, database, layers: [cloudInitLayer, baseImage], log });
    await fleet.publish(release);
    await Promise.all([1, 2].map((slot) => fleet.launchAppServer(slot)));
    log(`ha sandbox "${name}" is up in ${secondsSince(startedAt)}: ${fleet.url}`);
    return fleet;
}

interface FleetParts {
    readonly name: string;
    readonly domain: string;
    readonly subnet: SharedSubnet;
    readonly paths: ReturnType<typeof fleetPaths>;
    readonly ca: CertificateAuthority;
    readonly loadBalancer: Sandbox;
    readonly database: Sandbox;
    readonly layers: readonly string[];
    readonly log: (line: string) => void;
}

function fleetHandle(parts: FleetParts): Fleet {
    const { name, domain, subnet, paths, ca, loadBalancer, database, log } = parts;
    const state = () => readFleetState(name) as FleetState;
    const setLiveSlots = (change: (slots: readonly number[]) => number[]) =>
        writeFleetState({ ...state(), liveSlots: change(state().liveSlots).sort() });
    const healthyTargets = async () =>
        targetsUp(await sshRunAsRoot(loadBalancer.ssh, adminCommand(`show servers state ${TARGET_BACKEND}`)));
    const waitForTarget = async (slot: number, wanted: boolean) => {
        const found = await pollUntil(async () => ((await healthyTargets()).includes(targetName(slot)) === wanted ? true : undefined), {
            timeoutMs: TARGET_WAIT_MS,
            intervalMs: 500,
        });
        if (found === undefined) {
            throw new Error(
                `The load balancer did not find ${targetName(slot)} ${wanted ? "healthy" : "gone"} within ${TARGET_WAIT_MS / 1000} s.`,
            );
        }
    };

    /** Auto Scaling's instance refresh to a launch template version: each new server serves before an old one is retired. */
    const refreshTo = async (version: number, what: string, progress: (line: string) => void) => {
        writeFleetState({ ...state(), groupVersion: version });
        for (const old of [...state().liveSlots]) {
            const free = APP_SLOTS.find((slot) => !state().liveSlots.includes(slot));
            if (free === undefined) {
                throw new Error(
                    `A rolling deploy starts each new server before it retires an old one; all ${APP_SLOTS.length} slots are taken.`,
                );
            }
            await fleet.launchAppServer(free, version);
            progress(`${targetName(free)} serves ${what}; retiring ${targetName(old)}`);
            await fleet.terminateAppServer(old);
        }
    };

    const fleet: Fleet = {
        name,
        domain,
        subnet,
        url: siteUrl(domain, true),
        loadBalancerAddress: loadBalancer.address,
        dnsServer: subnet.hostAddress,
        caPem: ca.certPem,
        caFile: ca.certFile,
        loadBalancer,
        database,
        healthyTargets,
        appServerSlots: () => [...state().liveSlots],
        async onAppServer(slot, command) {
            return (await runInGuest(memberName(name, { slot }), command)).stdout;
        },
        async publish(release) {
            const objects = planObjects(buildFleetPlan({ release }), { domain, fleet: sandboxFleetInputs(subnet, ca.certPem) });
            const stored = objects.map((object) => ({
                ...object,
                versionId: putObjectVersion(paths.objectsDir, object.key, object.content ?? readFileSync(object.localPath ?? "")),
            }));
            const index = renderPlanIndex(stored);
            const userData = renderFirstBootUserData({
                region: SANDBOX_REGION,
                bucket: SANDBOX_BUCKET,
                indexVersionId: putObjectVersion(paths.objectsDir, PLAN_INDEX_KEY, index),
                indexSha256: contentSha256(index),
            });
            // As Pulumi's update of the launch template: a new version only when the user data changed.
            const versions = state().launchTemplateVersions;
            const launchTemplateVersions = versions.at(-1) === userData ? versions : [...versions, userData];
            // A group made with the template starts on its first version.
            writeFleetState({ ...state(), launchTemplateVersions, groupVersion: state().groupVersion ?? 1 });
            log(
                `release ${release.id} published: ${objects.length} plan objects, launch template version ${launchTemplateVersions.length}`,
            );
            return launchTemplateVersions.length;
        },
        async launchAppServer(slot, launchTemplateVersion = state().groupVersion) {
            const userData = launchTemplateVersion === undefined ? undefined : state().launchTemplateVersions[launchTemplateVersion - 1];
            if (userData === undefined) {
                throw new Error(`The launch template has no version ${launchTemplateVersion ?? "yet"}: publish a release first.`);
            }
            const startedAt = Date.now();
            const member = memberName(name, { slot });
            await startSubnetMember({
                name: member,
                domain,
                network: sharedSubnetMember(subnet, member, memberHostNumber({ slot })),
                image: {
                    lowerDirs: parts.layers,
                    extraFiles: [
                        ...noCloudSeedFiles(userData, `i-sandbox-${member}-${randomBytes(4).toString("hex")}`),
                        { path: "usr/local/share/ca-certificates/webstack-sandbox.crt", content: ca.certPem, mode: 0o644 },
                    ],
                    chrootCommands: [["update-ca-certificates"]],
                    sshClosed: true,
                },
                log,
            });
            const status = await runInGuest(member, "cloud-init status --wait", { allowFailure: true, timeoutMs: FIRST_BOOT_WAIT_MS });
            if (status.exitCode !== 0) {
                const output = await runInGuest(member, "tail -n 30 /var/log/cloud-init-output.log", { allowFailure: true });
                throw new Error(`${member}'s first boot failed (cloud-init: ${status.stdout.trim()}):\n${output.stdout}`);
            }
            await sshRunAsRoot(loadBalancer.ssh, adminCommand(registrationCommand(targetName(slot), true)));
            await waitForTarget(slot, true);
            setLiveSlots((slots) => [...slots.filter((live) => live !== slot), slot]);
            log(`${member} configured itself and serves, ${secondsSince(startedAt)} after it was launched`);
        },
        async terminateAppServer(slot) {
            await sshRunAsRoot(loadBalancer.ssh, adminCommand(registrationCommand(targetName(slot), false)));
            await sleep(DEREGISTRATION_WAIT_MS);
            await fleet.powerOffAppServer(slot);
        },
        async powerOffAppServer(slot) {
            await destroySandbox(memberName(name, { slot }), () => undefined);
            setLiveSlots((slots) => slots.filter((live) => live !== slot));
            // Auto Scaling takes a failed instance out of the target group when it replaces it.
            await sshRunAsRoot(loadBalancer.ssh, adminCommand(registrationCommand(targetName(slot), false)));
        },
        async rollingDeploy(release, progress = log) {
            await refreshTo(await fleet.publish(release), `release ${release.id}`, progress);
        },
        async rollBack(progress = log) {
            const current = state().groupVersion ?? 0;
            if (current < 2) {
                throw new Error(`The group is on launch template version ${current}; there is no earlier version to roll back to.`);
            }
            await refreshTo(current - 1, `launch template version ${current - 1}`, progress);
        },
        async rebootDatabase() {
            await sshRunAsRoot(database.ssh, "systemctl reboot", { allowFailure: true });
        },
    };
    return fleet;
}

/** The running fleet `name`, to drive it again (deploy); throws when it does not run. */
export async function runningFleet(name: string, log: (line: string) => void = console.log): Promise<Fleet> {
    const state = readFleetState(name);
    const member = (which: "lb" | "db") => {
        const found = readState(memberName(name, which));
        return found && isSandboxRunning(found) ? describeSandbox(found, sandboxPaths(found.name)) : undefined;
    };
    const [loadBalancer, database] = [member("lb"), member("db")];
    if (state === undefined || loadBalancer === undefined || database === undefined) {
        throw new Error(`The ha sandbox "${name}" is not running; start it with \`npm run sandbox -- --ha\`.`);
    }
    const paths = fleetPaths(name);
    const ca: CertificateAuthority = {
        certFile: paths.caFile,
        keyFile: join(paths.certificates, "ca.key"),
        certPem: readFileSync(paths.caFile, "utf8"),
    };
    const baseImage = await ensureBaseImage(log);
    const layers = [await ensureCloudInitLayer(baseImage, log), baseImage];
    return fleetHandle({
        name,
        domain: state.domain,
        subnet: sharedSubnet(state.subnetIndex),
        paths,
        ca,
        loadBalancer,
        database,
        layers,
        log,
    });
}
