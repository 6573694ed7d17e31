import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { appServerPolicy } from "../../components/fleet/appServers";
import { RUN_AS_ROOT, type Release } from "../../provisioning";
import { LOAD_BALANCER_HEALTH_PATH } from "../../provisioning/files/nginx";
import { wwwHostName } from "../../provisioning/site";
import { startAws, stopAws } from "../objectStore/aws";
import { ensureBaseImage } from "../server/baseImage";
import { resolvConfNameservers, startDnsServer, stopDnsServer, checkedSandboxDomain } from "../network/dns";
import { secondsSince } from "../host/exec";
import { ensureHostPackages, requireRootOnLinux, withHostLock } from "../host/host";
import { checkedSandboxName } from "../host/layout";
import {
    allocateSubnetIndex,
    createSharedSubnet,
    enableEgress,
    removeSharedSubnet,
    sharedSubnet,
    type SharedSubnet,
} from "../network/network";
import { openObjectStore, type ObjectStore } from "../objectStore/objectStore";
import { destroySandbox, runningSandbox } from "../sandbox";
import { listSandboxes, readState, removeRuntimeDir, takenSubnetIndexes, type Sandbox } from "../host/state";
import { startSubnetMember } from "../server/subnetMember";
import { sshRun } from "../host/ssh";
import { createCertificateAuthority, issueCertificate, type CertificateAuthority } from "./certificates";
import { ensureCloudInitLayer } from "./cloudInit";
import { DATABASE_PACKAGES, databaseSetupScript } from "./database";
import { withPackageLayer, type PackageLayer } from "../server/imageLayer";
import { FLEET_PACKAGES } from "../../provisioning/steps/packages";
import { fleetHandle, type Fleet } from "./fleetHandle";
import {
    APP_SLOTS,
    databaseSecretArns,
    fleetAwsHost,
    fleetHostRecords,
    fleetPaths,
    memberName,
    memberNetwork,
    SANDBOX_BUCKET,
    SANDBOX_DATABASE_HOST,
    SANDBOX_REGION,
    sandboxDatabaseSecrets,
    targetName,
    type FleetPaths,
} from "./fleetLayout";
import { readFleetState, writeFleetState } from "./fleetState";
import { LOAD_BALANCER_PACKAGES, loadBalancerSetupScript, renderHaproxyConfig } from "./loadBalancer";

/**
 * The fleet sandbox: the ha topology on this machine, one server per AWS part on one shared subnet (the
 * VPC): a load balancer (HAProxy, for the ALB), a database server (MariaDB over TLS, for RDS), and app
 * servers that boot with real cloud-init from exactly the user data the launch template carries,
 * fetching their plan and the database's credentials from the sandbox's AWS (moto's S3 and Secrets
 * Manager, at AWS's own names) with the credentials of a role whose policy is the stack's own, which
 * the metadata service hands them. The fleet adds, deregisters and removes app servers as Auto Scaling does.
 */

const HEALTH_CHECK_INTERVAL_SECONDS = 2;
/** The stand-ins for RDS and the ALB boot with their packages installed: they are AWS's, not what the tests test. */
const STAND_IN_LAYERS = {
    db: { name: "fleet-database", packages: DATABASE_PACKAGES },
    lb: { name: "fleet-load-balancer", packages: LOAD_BALANCER_PACKAGES },
} as const satisfies Record<string, PackageLayer>;
/** An app server's plan's packages, for startFleet's `preinstalled`. */
export const APP_SERVER_PACKAGES_LAYER: PackageLayer = { name: "fleet-app-server-packages", packages: FLEET_PACKAGES };
/** The app servers' role, as WebFleet names it for a stack called webstack-sandbox. */
const APP_SERVER_ROLE = "webstack-sandbox-app-role";

/** Removes the fleet `name` and all its servers; nothing left is fine. Returns false when there was nothing. */
export async function destroyFleet(name: string, log: (line: string) => void = console.log): Promise<boolean> {
    requireRootOnLinux();
    const paths = fleetPaths(name);
    const state = readFleetState(name);
    const members = listSandboxes().filter((member) => member.startsWith(`${name}-`) && readState(member)?.network?.bridge !== undefined);
    for (const member of members) {
        await destroySandbox(member, () => undefined);
    }
    await stopDnsServer(paths.dnsmasqPidFile);
    if (state) {
        const subnet = sharedSubnet(state.subnetIndex);
        await stopAws(fleetAwsHost(subnet), paths.aws);
        await removeSharedSubnet(subnet);
    }
    const existed = state !== undefined || members.length > 0;
    await removeRuntimeDir(paths.runtime);
    if (existed) {
        log(`fleet sandbox "${name}" destroyed`);
    }
    return existed;
}

/**
 * Boots the fleet sandbox `name` for `domain` with `release` on two app servers, from scratch (anything
 * left of a fleet of that name is removed first), and returns it once the load balancer serves the
 * release from both. A failed start leaves nothing behind.
 */
export async function startFleet(options: {
    name?: string;
    domain: string;
    release: Release;
    log?: (line: string) => void;
    /** App servers boot from an image with their plan's packages installed ({@link APP_SERVER_PACKAGES_LAYER}); defaults to the bare image. */
    preinstalled?: PackageLayer;
}): Promise<Fleet> {
    const name = checkedSandboxName(options.name ?? "ha");
    const domain = checkedSandboxDomain(options.domain);
    const log = options.log ?? console.log;
    requireRootOnLinux();
    await ensureHostPackages(log);
    await destroyFleet(name, () => undefined);
    try {
        return await bootFleet(name, domain, options.release, options.preinstalled, log);
    } catch (error) {
        await destroyFleet(name, () => undefined);
        throw error;
    }
}

/** The running fleet `name`, to drive it again (deploy); throws when it does not run. */
export async function runningFleet(name: string, log: (line: string) => void = console.log): Promise<Fleet> {
    const state = readFleetState(name);
    const paths = fleetPaths(name);
    const [loadBalancer, database, aws] = [
        runningSandbox(memberName(name, "lb")),
        runningSandbox(memberName(name, "db")),
        openObjectStore(paths.aws),
    ];
    if (state === undefined || loadBalancer === undefined || database === undefined || aws === undefined) {
        throw new Error(`The fleet sandbox "${name}" is not running; start it with \`npm run sandbox -- --ha\`.`);
    }
    const ca: CertificateAuthority = {
        certFile: paths.caFile,
        keyFile: join(paths.certificates, "ca.key"),
        certPem: readFileSync(paths.caFile, "utf8"),
    };
    const layers = await appServerLayers(state.preinstalled, log);
    return fleetHandle({
        name,
        domain: state.domain,
        subnet: sharedSubnet(state.subnetIndex),
        ca,
        loadBalancer,
        database,
        aws,
        layers,
        log,
    });
}

/** An app server's image: cloud-init over the base, as Debian's EC2 image, and the preinstalled packages' layer over both. */
async function appServerLayers(preinstalled: PackageLayer | undefined, log: (line: string) => void): Promise<string[]> {
    const baseImage = await ensureBaseImage(log);
    const layers = [await ensureCloudInitLayer(baseImage, log), baseImage];
    return preinstalled === undefined ? layers : withPackageLayer(layers, preinstalled, log);
}

async function bootFleet(
    name: string,
    domain: string,
    release: Release,
    preinstalled: PackageLayer | undefined,
    log: (line: string) => void,
): Promise<Fleet> {
    const startedAt = Date.now();
    const paths = fleetPaths(name);
    const baseImage = await ensureBaseImage(log);
    const layers = await appServerLayers(preinstalled, log);
    const subnet = await allocateFleetSubnet(name, domain, preinstalled);
    await startDnsServer(paths.dnsmasqConfig, {
        domain,
        listenAddress: subnet.hostAddress,
        serverAddress: memberNetwork(subnet, name, "lb").guestAddress,
        upstreamResolvers: resolvConfNameservers(readFileSync("/etc/resolv.conf", "utf8")),
        pidFile: paths.dnsmasqPidFile,
        logFile: paths.dnsmasqLog,
        hostRecords: fleetHostRecords(subnet),
    });
    const ca = await createCertificateAuthority(paths.certificates, `webstack fleet sandbox ${name}`);
    const masterPassword = newDatabasePassword();
    const aws = await startFleetAws(paths, subnet, ca, masterPassword, log);
    const { loadBalancer, database } = await startLoadBalancerAndDatabase({
        name,
        domain,
        subnet,
        paths,
        ca,
        baseImage,
        masterPassword,
        log,
    });
    log(`load balancer ${loadBalancer.address} and database ${database.address} are up`);

    const fleet = fleetHandle({ name, domain, subnet, ca, loadBalancer, database, aws, layers, log });
    await fleet.publish(release);
    await Promise.all([1, 2].map((slot) => fleet.launchAppServer(slot)));
    log(`fleet sandbox "${name}" is up in ${secondsSince(startedAt)}: ${fleet.url}`);
    return fleet;
}

/** Takes a free shared subnet for the fleet and records it in the fleet's new state. */
async function allocateFleetSubnet(name: string, domain: string, preinstalled: PackageLayer | undefined): Promise<SharedSubnet> {
    // Under the host lock, so that no sandbox or fleet starting at the same time takes the same subnet.
    return withHostLock(async () => {
        const allocated = sharedSubnet(allocateSubnetIndex(await takenSubnetIndexes()));
        writeFleetState({
            name,
            domain,
            subnetIndex: allocated.subnetIndex,
            createdAt: new Date().toISOString(),
            launchTemplateVersions: [],
            liveSlots: [],
            ...(preinstalled === undefined ? {} : { preinstalled }),
        });
        await createSharedSubnet(allocated);
        await enableEgress();
        return allocated;
    });
}

function newDatabasePassword(): string {
    return randomBytes(24).toString("hex");
}

/**
 * The fleet's AWS on the host's address on the subnet: the plan bucket, the database users' secrets
 * (as on AWS, RDS makes the master user's password, the stack the app user's; neither is the
 * other's), and the app servers' role with the stack's own policy, which names the secrets' ARNs.
 */
async function startFleetAws(
    paths: FleetPaths,
    subnet: SharedSubnet,
    ca: CertificateAuthority,
    masterPassword: string,
    log: (line: string) => void,
): Promise<ObjectStore> {
    return startAws(
        fleetAwsHost(subnet),
        {
            directory: paths.aws,
            region: SANDBOX_REGION,
            bucket: SANDBOX_BUCKET,
            roleName: APP_SERVER_ROLE,
            rolePolicy: (secretArns) => {
                const { masterSecretArn, appSecretArn } = databaseSecretArns(secretArns);
                return appServerPolicy(`arn:aws:s3:::${SANDBOX_BUCKET}`, [masterSecretArn, appSecretArn]);
            },
            secrets: sandboxDatabaseSecrets(masterPassword, newDatabasePassword()),
            ca,
        },
        log,
    );
}

/** Boots the load balancer and the database server side by side and sets each up with its certificate. */
async function startLoadBalancerAndDatabase(options: {
    name: string;
    domain: string;
    subnet: SharedSubnet;
    paths: FleetPaths;
    ca: CertificateAuthority;
    baseImage: string;
    masterPassword: string;
    log: (line: string) => void;
}): Promise<{ loadBalancer: Sandbox; database: Sandbox }> {
    const { name, domain, subnet, paths, ca, baseImage, masterPassword, log } = options;
    const [database, loadBalancer] = await Promise.all(
        (["db", "lb"] as const).map(async (member) =>
            startSubnetMember({
                name: memberName(name, member),
                domain,
                network: memberNetwork(subnet, name, member),
                image: { lowerDirs: await withPackageLayer([baseImage], STAND_IN_LAYERS[member], log) },
                log,
            }),
        ),
    );
    const databaseCertificate = await issueCertificate(ca, paths.certificates, "database", [SANDBOX_DATABASE_HOST]);
    const siteCertificate = await issueCertificate(ca, paths.certificates, "site", [wwwHostName(domain), domain]);
    const targets = APP_SLOTS.map((slot) => ({ name: targetName(slot), address: memberNetwork(subnet, name, { slot }).guestAddress }));
    await Promise.all([
        sshRun(database.ssh, RUN_AS_ROOT, {
            input: databaseSetupScript({
                certificatePem: databaseCertificate.certPem,
                keyPem: databaseCertificate.keyPem,
                password: masterPassword,
            }),
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
    return { loadBalancer, database };
}
