import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { buildFleetPlan, type Release } from "../../provisioning";
import { contentSha256, PLAN_INDEX_KEY, planObjects, renderFirstBootUserData, renderPlanIndex } from "../../components/fleet/firstBoot";
import { siteUrl } from "../../provisioning/site";
import { pollUntil, secondsSince, sleep } from "../host/exec";
import type { SharedSubnet } from "../network/network";
import { runInGuest } from "../server/guestConsole";
import { destroySandbox } from "../sandbox";
import type { Sandbox } from "../host/state";
import { startSubnetMember } from "../server/subnetMember";
import { sshRunAsRoot } from "../host/ssh";
import type { ObjectStore } from "../objectStore/objectStore";
import type { CertificateAuthority } from "./certificates";
import { noCloudSeedFiles } from "./cloudInit";
import {
    APP_SLOTS,
    databaseSecretArns,
    memberName,
    memberNetwork,
    SANDBOX_BUCKET,
    SANDBOX_REGION,
    sandboxFleetInputs,
    targetName,
} from "./fleetLayout";
import { readFleetState, writeFleetState, type FleetState } from "./fleetState";
import { adminCommand, registrationCommand, TARGET_BACKEND, targetsUp } from "./loadBalancer";
import { planPublisher } from "./planPublisher";

/** How long a deregistered target keeps its requests before it is stopped (the ALB's deregistration delay, shortened). */
const DEREGISTRATION_WAIT_MS = 3_000;
const FIRST_BOOT_WAIT_MS = 600_000;
const TARGET_WAIT_MS = 120_000;

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
    readonly trustedCaPem: string;
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

/** What a fleet handle is made of, whether the fleet was just booted or is found running. */
export interface FleetParts {
    readonly name: string;
    readonly domain: string;
    readonly subnet: SharedSubnet;
    readonly ca: CertificateAuthority;
    readonly loadBalancer: Sandbox;
    readonly database: Sandbox;
    /** The fleet's AWS: its plan bucket, its secrets and its app servers' role. */
    readonly aws: ObjectStore;
    readonly layers: readonly string[];
    readonly log: (line: string) => void;
}

type AppServerOperations = Pick<Fleet, "appServerSlots" | "onAppServer" | "launchAppServer" | "terminateAppServer" | "powerOffAppServer">;
type ReleaseOperations = Pick<Fleet, "publish" | "rollingDeploy" | "rollBack">;
type LoadBalancerTargets = ReturnType<typeof loadBalancerTargets>;

export function fleetHandle(parts: FleetParts): Fleet {
    const { name, domain, subnet, ca, loadBalancer, database } = parts;
    const targets = loadBalancerTargets(loadBalancer);
    const appServers = appServerOperations(parts, targets);
    return {
        name,
        domain,
        subnet,
        url: siteUrl(domain, true),
        loadBalancerAddress: loadBalancer.address,
        dnsServer: subnet.hostAddress,
        trustedCaPem: ca.certPem,
        caFile: ca.certFile,
        loadBalancer,
        database,
        healthyTargets: targets.healthyTargets,
        ...appServers,
        ...releaseOperations(parts, appServers),
        async rebootDatabase() {
            await sshRunAsRoot(database.ssh, "systemctl reboot", { allowFailure: true });
        },
    };
}

// The state file is the one copy of the state: every use reads it and every change writes it.
function currentState(name: string): FleetState {
    return readFleetState(name) as FleetState;
}

function setLiveSlots(name: string, change: (slots: readonly number[]) => number[]): void {
    const state = currentState(name);
    writeFleetState({ ...state, liveSlots: change(state.liveSlots).sort() });
}

function loadBalancerTargets(loadBalancer: Sandbox) {
    const healthyTargets = async () =>
        targetsUp(await sshRunAsRoot(loadBalancer.ssh, adminCommand(`show servers state ${TARGET_BACKEND}`)));
    return {
        healthyTargets,
        async setRegistered(slot: number, registered: boolean): Promise<void> {
            await sshRunAsRoot(loadBalancer.ssh, adminCommand(registrationCommand(targetName(slot), registered)));
        },
        async waitUntilHealthy(slot: number): Promise<void> {
            const found = await pollUntil(async () => ((await healthyTargets()).includes(targetName(slot)) ? true : undefined), {
                timeoutMs: TARGET_WAIT_MS,
                intervalMs: 500,
            });
            if (found === undefined) {
                throw new Error(`The load balancer did not find ${targetName(slot)} healthy within ${TARGET_WAIT_MS / 1000} s.`);
            }
        },
    };
}

function appServerOperations(parts: FleetParts, targets: LoadBalancerTargets): AppServerOperations {
    const { name, log } = parts;
    const powerOffAppServer = async (slot: number) => {
        await destroySandbox(memberName(name, { slot }), () => undefined);
        setLiveSlots(name, (slots) => slots.filter((live) => live !== slot));
        // Auto Scaling takes a failed instance out of the target group when it replaces it.
        await targets.setRegistered(slot, false);
    };
    return {
        appServerSlots: () => [...currentState(name).liveSlots],
        async onAppServer(slot, command) {
            return (await runInGuest(memberName(name, { slot }), command)).stdout;
        },
        async launchAppServer(slot, launchTemplateVersion = currentState(name).groupVersion) {
            const userData = launchTemplateUserData(currentState(name), launchTemplateVersion);
            if (userData === undefined) {
                throw new Error(`The launch template has no version ${launchTemplateVersion ?? "yet"}: publish a release first.`);
            }
            const startedAt = Date.now();
            await bootAppServer(parts, slot, userData);
            await targets.setRegistered(slot, true);
            await targets.waitUntilHealthy(slot);
            setLiveSlots(name, (slots) => [...slots.filter((live) => live !== slot), slot]);
            log(`${memberName(name, { slot })} configured itself and serves, ${secondsSince(startedAt)} after it was launched`);
        },
        async terminateAppServer(slot) {
            await targets.setRegistered(slot, false);
            await sleep(DEREGISTRATION_WAIT_MS);
            await powerOffAppServer(slot);
        },
        powerOffAppServer,
    };
}

function launchTemplateUserData(state: FleetState, version: number | undefined): string | undefined {
    return version === undefined ? undefined : state.launchTemplateVersions[version - 1];
}

/** Boots the app server in `slot` with cloud-init and `userData`, as EC2 launches an instance, and waits for its first boot. */
async function bootAppServer(parts: FleetParts, slot: number, userData: string): Promise<void> {
    const { name, domain, subnet, ca, log } = parts;
    const member = memberName(name, { slot });
    await startSubnetMember({
        name: member,
        domain,
        network: memberNetwork(subnet, name, { slot }),
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
}

function releaseOperations(parts: FleetParts, appServers: AppServerOperations): ReleaseOperations {
    const { name, log } = parts;
    const publish = (release: Release) => publishRelease(parts, release);
    return {
        publish,
        async rollingDeploy(release, progress = log) {
            await refreshTo(name, appServers, await publish(release), `release ${release.id}`, progress);
        },
        async rollBack(progress = log) {
            const current = currentState(name).groupVersion ?? 0;
            if (current < 2) {
                throw new Error(`The group is on launch template version ${current}; there is no earlier version to roll back to.`);
            }
            await refreshTo(name, appServers, current - 1, `launch template version ${current - 1}`, progress);
        },
    };
}

async function publishRelease(parts: FleetParts, release: Release): Promise<number> {
    const { name, domain, subnet, ca, aws, log } = parts;
    const fleet = sandboxFleetInputs(subnet, ca.certPem, databaseSecretArns(aws.secretArns));
    const objects = planObjects(buildFleetPlan({ release }), { domain, fleet });
    const put = await planPublisher(aws);
    const stored = await Promise.all(
        objects.map(async (object) => ({
            ...object,
            versionId: await put(object.key, object.content ?? readFileSync(object.localPath ?? "")),
        })),
    );
    const index = renderPlanIndex(stored);
    const userData = renderFirstBootUserData({
        region: SANDBOX_REGION,
        bucket: SANDBOX_BUCKET,
        indexVersionId: await put(PLAN_INDEX_KEY, index),
        indexSha256: contentSha256(index),
    });
    const state = currentState(name);
    const launchTemplateVersions = launchTemplateVersionsWith(state.launchTemplateVersions, userData);
    // A group made with the template starts on its first version.
    writeFleetState({ ...state, launchTemplateVersions, groupVersion: state.groupVersion ?? 1 });
    log(`release ${release.id} published: ${objects.length} plan objects, launch template version ${launchTemplateVersions.length}`);
    return launchTemplateVersions.length;
}

/** As Pulumi's update of the launch template: a new version only when the user data changed. */
function launchTemplateVersionsWith(versions: readonly string[], userData: string): readonly string[] {
    return versions.at(-1) === userData ? versions : [...versions, userData];
}

/** Auto Scaling's instance refresh to a launch template version: each new server serves before an old one is retired. */
async function refreshTo(
    name: string,
    appServers: AppServerOperations,
    version: number,
    what: string,
    progress: (line: string) => void,
): Promise<void> {
    writeFleetState({ ...currentState(name), groupVersion: version });
    for (const old of [...currentState(name).liveSlots]) {
        const free = freeAppSlot(currentState(name).liveSlots);
        if (free === undefined) {
            throw new Error(
                `A rolling deploy starts each new server before it retires an old one; all ${APP_SLOTS.length} slots are taken.`,
            );
        }
        await appServers.launchAppServer(free, version);
        progress(`${targetName(free)} serves ${what}; retiring ${targetName(old)}`);
        await appServers.terminateAppServer(old);
    }
}

function freeAppSlot(liveSlots: readonly number[]): number | undefined {
    return APP_SLOTS.find((slot) => !liveSlots.includes(slot));
}
