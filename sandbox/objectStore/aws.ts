import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { backupWriterPolicy } from "../../components/server/backups";
import { AWS_CLI_CONFIG_FILE } from "../../provisioning/layout";
import type { BackupBucket } from "../../provisioning/plan";
import { trustCaScript } from "../acme/acme";
import { startDaemon, stopProcessInPidFile } from "../host/daemon";
import { runCommand } from "../host/exec";
import { createCertificateAuthority } from "../fleet/certificates";
import { SANDBOX_REGION } from "../fleet/fleetLayout";
import { sandboxPaths, type SandboxPaths } from "../host/layout";
import { METADATA_PORT, metadataRedirectRuleset, metadataTable, type SandboxNetwork } from "../network/network";
import type { MetadataConfig } from "./metadataDaemon";
import {
    cloudWatchHostName,
    objectStorePidFile,
    openObjectStore,
    s3HostNames,
    startObjectStore,
    type ObjectStore,
    type ObjectStoreSettings,
} from "./objectStore";
import { sshRunAsRoot, type SshTarget } from "../host/ssh";

/**
 * The AWS a sandbox server reaches, as an EC2 instance of the stack reaches its own: S3 with the
 * stack's backup bucket, and CloudWatch (moto, at AWS's names, on the host end of the sandbox's
 * veth); the server role whose policy is the stack's own, and the instance metadata service that
 * hands the server that role's credentials. The server trusts the sandbox's CA, which signs moto's
 * certificate. The fleet sandbox starts the same for its servers ({@link startAws}).
 */

/** The role the sandbox's server acts as, as WebServer's instance profile makes it act on AWS. */
const SERVER_ROLE = "webstack-server-role";
/** Where the server trusts the sandbox's CA. */
const GUEST_CA_PATH = "/usr/local/share/ca-certificates/webstack-sandbox-aws.crt";

/**
 * The stack a sandbox server belongs to when the engine drives it: its backups are under the prefix
 * WebServer gives a stack of this name (`<stack>-webstack`), which the sandbox's role may write.
 */
export const SANDBOX_STACK = "sandbox";

/** The backup bucket of the sandbox `name`: its own bucket, and the prefix of the {@link SANDBOX_STACK} stack's server. */
export function sandboxBackupBucket(name: string): BackupBucket {
    return { bucket: `webstack-${name}-backups`, prefix: `${SANDBOX_STACK}-webstack`, region: SANDBOX_REGION };
}

/**
 * The names the sandbox's DNS gives the host end of its veth, where moto answers: S3's regional
 * endpoint and the bucket's virtual host, and CloudWatch's endpoint.
 */
export function sandboxAwsHostRecords(network: SandboxNetwork, target: BackupBucket): { names: string[]; address: string }[] {
    const [regional] = s3HostNames(target.region);
    return [{ names: [regional, `${target.bucket}.${regional}`, cloudWatchHostName(target.region)], address: network.hostAddress }];
}

function awsDir(paths: SandboxPaths): string {
    return join(paths.runtime, "aws");
}

/** The S3 of the running sandbox `name`, or undefined when it has none. */
export function sandboxObjectStore(name: string): ObjectStore | undefined {
    return openObjectStore(awsDir(sandboxPaths(name)));
}

/** Where a network's servers reach the sandbox's AWS: the host's address on it, and the host interface their requests arrive on. */
export interface AwsHost {
    readonly address: string;
    readonly subnetIndex: number;
    readonly inboundInterface: string;
}

function metadataPidFile(directory: string): string {
    return join(directory, "metadata.pid");
}

/**
 * Starts the sandbox's AWS for the servers behind `host`: moto on its address ({@link startObjectStore},
 * its files in `settings.directory`), the metadata service with the role's credentials, and the
 * redirect to it.
 */
export async function startAws(
    host: AwsHost,
    settings: Omit<ObjectStoreSettings, "address" | "port">,
    log: (line: string) => void,
): Promise<ObjectStore> {
    const store = await startObjectStore({ ...settings, address: host.address, port: 443 }, log);
    const config: MetadataConfig = {
        address: host.address,
        port: METADATA_PORT,
        credentials: {
            AccessKeyId: store.role.accessKeyId,
            SecretAccessKey: store.role.secretAccessKey,
            Token: store.role.sessionToken ?? "",
            Expiration: store.role.expiration,
        },
        pidFile: metadataPidFile(settings.directory),
    };
    await startDaemon({
        script: join(__dirname, "metadataDaemon.ts"),
        config,
        configFile: join(settings.directory, "metadata.json"),
        pidFile: config.pidFile,
        logFile: join(settings.directory, "metadata.log"),
        what: "The sandbox's instance metadata service",
    });
    await runCommand("nft", ["-f", "-"], {
        input: metadataRedirectRuleset(host.subnetIndex, host.inboundInterface, host.address),
    });
    return store;
}

/** Stops what {@link startAws} started with its files in `directory`; what is gone already is fine. */
export async function stopAws(host: AwsHost, directory: string): Promise<void> {
    await stopProcessInPidFile(metadataPidFile(directory));
    await stopProcessInPidFile(objectStorePidFile(directory));
    await runCommand("nft", ["delete", "table", "ip", metadataTable(host.subnetIndex)], { allowFailure: true });
}

function sandboxAwsHost(network: SandboxNetwork): AwsHost {
    return { address: network.hostAddress, subnetIndex: network.subnetIndex, inboundInterface: network.hostInterface };
}

/** Starts S3 with the bucket and the role, the metadata service with the role's credentials, and the redirect to it. */
export async function startSandboxAws(
    network: SandboxNetwork,
    paths: SandboxPaths,
    target: BackupBucket,
    log: (line: string) => void,
): Promise<ObjectStore> {
    const directory = awsDir(paths);
    const ca = await createCertificateAuthority(join(directory, "ca"), `webstack sandbox AWS CA (${network.netns})`);
    return startAws(
        sandboxAwsHost(network),
        {
            directory,
            region: target.region,
            bucket: target.bucket,
            roleName: SERVER_ROLE,
            rolePolicy: () => backupWriterPolicy(`arn:aws:s3:::${target.bucket}`, target.prefix),
            ca,
        },
        log,
    );
}

/**
 * The AWS CLI's settings on a sandbox server: moto cannot check the streaming checksums the CLI sends
 * with an upload by default (aws-chunked with a trailer: SignatureDoesNotMatch), so the CLI sends and
 * checks checksums only where S3 requires them. The plan writes no such file on AWS.
 */
export const SANDBOX_AWS_CLI_CONFIG = [
    "[default]",
    "request_checksum_calculation = when_required",
    "response_checksum_validation = when_required",
    "",
].join("\n");

/** Makes the server trust the sandbox's CA, which signs S3's certificate, and gives its AWS CLI the settings moto needs. */
export async function prepareServerForSandboxAws(ssh: SshTarget, paths: SandboxPaths): Promise<void> {
    await sshRunAsRoot(ssh, trustCaScript(GUEST_CA_PATH), { input: readFileSync(join(awsDir(paths), "ca", "ca.pem")) });
    await sshRunAsRoot(ssh, `install -d -m 755 ${dirname(AWS_CLI_CONFIG_FILE)} && cat >${AWS_CLI_CONFIG_FILE}`, {
        input: SANDBOX_AWS_CLI_CONFIG,
    });
}

/** Stops S3 and the metadata service and removes the redirect; what is gone already is fine. */
export async function stopSandboxAws(network: SandboxNetwork, paths: SandboxPaths): Promise<void> {
    await stopAws(sandboxAwsHost(network), awsDir(paths));
}
