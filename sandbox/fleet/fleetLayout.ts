import { join } from "node:path";
import type { FleetDatabase, FleetInputs } from "../../provisioning";
import { APP_DATABASE, APP_USER, FLEET_APP_DATABASE_USER } from "../../provisioning/layout";
import type { AwsHost } from "../objectStore/aws";
import { FLEET_STATE_FILE, fleetRuntimeDir } from "../host/layout";
import { sharedSubnetAddress, sharedSubnetMember, type SandboxNetwork, type SharedSubnet } from "../network/network";
import { secretsManagerHostName, type SecretArns } from "../objectStore/objectStore";

/**
 * How a fleet sandbox is laid out: where its files are on the host, what its servers are called and
 * where they sit on the shared subnet, and the AWS names its moto answers at.
 */

/** The region the sandbox's AWS answers for; the user data names it as it would an AWS region. */
export const SANDBOX_REGION = "eu-central-1";
export const SANDBOX_BUCKET = "webstack-sandbox-plan";
export const SANDBOX_DATABASE_HOST = `webstack-sandbox.abcdefghij.${SANDBOX_REGION}.rds.amazonaws.com`;
/** The master user's secret, named as RDS names the one it manages; Secrets Manager gives it its ARN. */
export const SANDBOX_MASTER_SECRET_NAME = "rds!db-webstack-sandbox";
/** The app user's secret, which the stack makes. */
export const SANDBOX_APP_SECRET_NAME = "webstack-sandbox-app-db-credentials";
/** The app server slots the load balancer knows: a rolling deploy starts the new servers in free slots, then stops the old ones. */
export const APP_SLOTS = [1, 2, 3, 4] as const;
const LOAD_BALANCER_HOST_NUMBER = 2;
const DATABASE_HOST_NUMBER = 3;
const FIRST_APP_HOST_NUMBER = 10;

/** A server of the fleet: the load balancer, the database server, or the app server in a slot. */
export type FleetMember = "lb" | "db" | { slot: number };

/** Where the fleet `name` keeps its files on the host. */
export function fleetPaths(name: string) {
    const runtime = fleetRuntimeDir(name);
    return {
        runtime,
        stateFile: join(runtime, FLEET_STATE_FILE),
        certificates: join(runtime, "certificates"),
        caFile: join(runtime, "certificates", "ca.pem"),
        /** The fleet's AWS: moto's and the metadata service's files. */
        aws: join(runtime, "aws"),
        dnsmasqConfig: join(runtime, "dnsmasq.conf"),
        dnsmasqPidFile: join(runtime, "dnsmasq.pid"),
        dnsmasqLog: join(runtime, "dnsmasq.log"),
    };
}

export type FleetPaths = ReturnType<typeof fleetPaths>;

/** The members' sandbox names: `<fleet>-lb`, `<fleet>-db`, `<fleet>-app<slot>`. */
export function memberName(fleet: string, member: FleetMember): string {
    return typeof member === "string" ? `${fleet}-${member}` : `${fleet}-app${member.slot}`;
}

/** Where each member sits on the shared subnet. */
export function memberHostNumber(member: FleetMember): number {
    return member === "lb" ? LOAD_BALANCER_HOST_NUMBER : member === "db" ? DATABASE_HOST_NUMBER : FIRST_APP_HOST_NUMBER + member.slot;
}

/** The network of the member of the fleet `fleet` on its shared subnet. */
export function memberNetwork(subnet: SharedSubnet, fleet: string, member: FleetMember): SandboxNetwork {
    return sharedSubnetMember(subnet, memberName(fleet, member), memberHostNumber(member));
}

/** The load balancer's name for the target in a slot. */
export function targetName(slot: number): string {
    return `app${slot}`;
}

/** The names the sandbox's DNS answers besides the site's: the database, and S3 and Secrets Manager at the host (moto). */
export function fleetHostRecords(subnet: SharedSubnet): { names: string[]; address: string }[] {
    return [
        { names: [SANDBOX_DATABASE_HOST], address: sharedSubnetAddress(subnet, DATABASE_HOST_NUMBER) },
        {
            names: [`${SANDBOX_BUCKET}.s3.${SANDBOX_REGION}.amazonaws.com`, secretsManagerHostName(SANDBOX_REGION)],
            address: subnet.hostAddress,
        },
    ];
}

/** Where the fleet's servers reach its AWS: the host's address on the subnet, their requests arriving on its bridge. */
export function fleetAwsHost(subnet: SharedSubnet): AwsHost {
    return { address: subnet.hostAddress, subnetIndex: subnet.subnetIndex, inboundInterface: subnet.bridge };
}

/**
 * The database users' secrets, by name: the master user's, as RDS makes it, and the app user's, as
 * the stack makes it, each with a password of its own.
 */
export function sandboxDatabaseSecrets(masterPassword: string, appPassword: string): Record<string, string> {
    return {
        [SANDBOX_MASTER_SECRET_NAME]: JSON.stringify({ username: APP_USER, password: masterPassword }),
        [SANDBOX_APP_SECRET_NAME]: JSON.stringify({ username: FLEET_APP_DATABASE_USER, password: appPassword }),
    };
}

export type DatabaseSecretArns = Pick<FleetDatabase, "masterSecretArn" | "appSecretArn">;

/** The ARNs Secrets Manager gave the database's two secrets, among those it gave `secretArns`. */
export function databaseSecretArns(secretArns: SecretArns): DatabaseSecretArns {
    const [masterSecretArn, appSecretArn] = [SANDBOX_MASTER_SECRET_NAME, SANDBOX_APP_SECRET_NAME].map((name) => {
        const arn = secretArns[name];
        if (arn === undefined) {
            throw new Error(`The fleet's Secrets Manager has no secret ${name}.`);
        }
        return arn;
    });
    return { masterSecretArn, appSecretArn };
}

/** What the fleet's app servers learn from the infrastructure, as WebFleet gives it from AWS. */
export function sandboxFleetInputs(subnet: SharedSubnet, trustedCaPem: string, secretArns: DatabaseSecretArns): FleetInputs {
    return {
        region: SANDBOX_REGION,
        loadBalancerCidrs: [subnet.cidr],
        database: { host: SANDBOX_DATABASE_HOST, port: 3306, name: APP_DATABASE, ...secretArns, trustedCaPem },
    };
}
