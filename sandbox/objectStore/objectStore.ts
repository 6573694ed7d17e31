import { spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isProcessAlive } from "../host/host";
import { CACHE_DIR } from "../host/layout";
import { stopProcessInPidFile } from "../host/daemon";
import { readJsonFile } from "../host/state";
import { pollUntil, runCommand } from "../host/exec";
import { issueCertificate, type CertificateAuthority } from "../fleet/certificates";
import { motoPolicy } from "./motoPolicy";

/**
 * The sandbox's AWS: moto's server (from PyPI) with authentication and identity policies on, over
 * HTTPS with a certificate of the sandbox's CA, answering at AWS's own names for S3, CloudWatch and
 * Secrets Manager. A stack's bucket, its secrets and its servers' role are made in it, the role with
 * the stack's own policy ({@link motoPolicy}), so that what the role may not do, moto refuses here as
 * AWS would.
 */

/** The moto release the sandbox installs; its authorization was measured at this version. */
export const MOTO_VERSION = "5.2.6";
const MOTO_DIR = join(CACHE_DIR, `moto-${MOTO_VERSION}`);
const MOTO_PYTHON = join(MOTO_DIR, "bin/python");
const START_WAIT_MS = 30_000;

/** The names S3's endpoints have in a region: path style, and each bucket's virtual host. */
export function s3HostNames(region: string): string[] {
    return [`s3.${region}.amazonaws.com`, `*.s3.${region}.amazonaws.com`, "s3.amazonaws.com", "*.s3.amazonaws.com"];
}

/** CloudWatch's endpoint in a region, where a server reports its metrics. */
export function cloudWatchHostName(region: string): string {
    return `monitoring.${region}.amazonaws.com`;
}

/** Secrets Manager's endpoint in a region. */
export function secretsManagerHostName(region: string): string {
    return `secretsmanager.${region}.amazonaws.com`;
}

/** The services the sandbox's servers and its tests call, by boto3's names. */
export type AwsService = "s3" | "cloudwatch" | "secretsmanager" | "iam";

/** Secret names and the ARNs Secrets Manager gave them. */
export type SecretArns = Readonly<Record<string, string>>;

/** Credentials as the AWS SDKs take them; a session token for a role's temporary ones. */
export interface AwsCredentials {
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
    readonly sessionToken?: string;
}

/** What AWS answered one call: its result, or the error code and HTTP status of a refusal. */
export type AwsAnswer =
    { result: Record<string, unknown>; error?: undefined } | { error: { code: string; status: number }; result?: undefined };

export interface ObjectStore {
    /** The HTTPS endpoint, by address: for clients on this host, which have no DNS for AWS's names. */
    readonly endpoint: string;
    readonly region: string;
    readonly bucket: string;
    /** The CA bundle the endpoint's certificate chains to. */
    readonly caBundle: string;
    /** An identity that may do anything, standing in for the account's administrator. */
    readonly admin: AwsCredentials;
    /** The server role's temporary credentials, as the metadata service would hand them out. */
    readonly role: AwsCredentials & { readonly arn: string; readonly expiration: string };
    readonly secretArns: SecretArns;
    /**
     * One call (boto3's operation name, for example put_object) to `service` (S3 unless named) as
     * `credentials`. An object's Body goes as text, or as `BodyBase64` when it is bytes.
     */
    call(credentials: AwsCredentials, operation: string, parameters: Record<string, unknown>, service?: AwsService): Promise<AwsAnswer>;
    stop(): Promise<void>;
}

export interface ObjectStoreSettings {
    /** Where its certificate, log and pid file go. */
    readonly directory: string;
    readonly address: string;
    readonly port: number;
    readonly region: string;
    readonly bucket: string;
    readonly roleName: string;
    /** The role's policy as the stack declares it for AWS, which may name the secrets by the ARNs Secrets Manager gave them. */
    readonly rolePolicy: (secretArns: SecretArns) => string;
    /** The secrets to make in Secrets Manager, by name: their strings. None unless given. */
    readonly secrets?: Readonly<Record<string, string>>;
    readonly ca: CertificateAuthority;
}

/** Where the object store in `directory` records its server's pid: {@link stopProcessInPidFile} stops it from any process. */
export function objectStorePidFile(directory: string): string {
    return join(directory, "moto.pid");
}

/** What a running object store's clients need, recorded beside it so that any process of the host can use it. */
type ObjectStoreRecord = Omit<ObjectStore, "call" | "stop">;

function objectStoreRecordFile(directory: string): string {
    return join(directory, "store.json");
}

function objectStoreFrom(record: ObjectStoreRecord, pidFile: string): ObjectStore {
    const connection = { endpoint: record.endpoint, region: record.region, caBundle: record.caBundle };
    return {
        ...record,
        call: async (credentials, operation, parameters, service = "s3") =>
            (await runPython("awscall.py", { ...connection, service, credentials, operation, parameters })) as AwsAnswer,
        stop: () => stopProcessInPidFile(pidFile),
    };
}

/** The object store that runs in `directory` (started by {@link startObjectStore}), or undefined when there is none. */
export function openObjectStore(directory: string): ObjectStore | undefined {
    const record = readJsonFile<ObjectStoreRecord>(objectStoreRecordFile(directory));
    return record && objectStoreFrom(record, objectStorePidFile(directory));
}

/** Installs moto's server into a virtual environment of its own under the sandbox's cache, once. */
export async function ensureMoto(log: (line: string) => void): Promise<void> {
    if (existsSync(join(MOTO_DIR, "bin/moto_server"))) {
        return;
    }
    log(`installing moto ${MOTO_VERSION} from PyPI (the sandbox's AWS) into ${MOTO_DIR}`);
    await runCommand("python3", ["-m", "venv", MOTO_DIR]);
    await runCommand(join(MOTO_DIR, "bin/pip"), ["install", "--quiet", `moto[server]==${MOTO_VERSION}`]);
}

async function runPython(script: string, input: unknown): Promise<unknown> {
    const result = await runCommand(MOTO_PYTHON, [join(__dirname, script)], { input: JSON.stringify(input) });
    return JSON.parse(result.stdout) as unknown;
}

/** The result of a call that must succeed; a refusal throws, naming `what` was asked. */
export function resultOf(answer: AwsAnswer, what: string): Record<string, unknown> {
    if (answer.error !== undefined) {
        throw new Error(`${what} was refused: ${answer.error.code} (HTTP ${answer.error.status})`);
    }
    return answer.result;
}

/**
 * Starts moto on `address`:`port`, makes the bucket, the secrets and the role in it, turns
 * authentication on, then gives the role its policy, which may name the secrets' ARNs.
 */
export async function startObjectStore(settings: ObjectStoreSettings, log: (line: string) => void): Promise<ObjectStore> {
    await ensureMoto(log);
    mkdirSync(settings.directory, { recursive: true, mode: 0o700 });
    const certificate = await issueCertificate(settings.ca, settings.directory, "aws", [
        ...s3HostNames(settings.region),
        cloudWatchHostName(settings.region),
        secretsManagerHostName(settings.region),
        settings.address,
    ]);
    const logFile = join(settings.directory, "moto.log");
    const output = openSync(logFile, "a");
    let pid: number;
    try {
        const child = spawn(
            join(MOTO_DIR, "bin/moto_server"),
            ["-H", settings.address, "-p", String(settings.port), "-c", certificate.certFile, "-k", certificate.keyFile],
            { detached: true, stdio: ["ignore", output, output] },
        );
        child.unref();
        pid = child.pid ?? 0;
    } finally {
        closeSync(output);
    }
    const pidFile = objectStorePidFile(settings.directory);
    writeFileSync(pidFile, `${pid}\n`);
    const endpoint = `https://${settings.address}:${settings.port}`;
    const stop = () => stopProcessInPidFile(pidFile);
    // A store that fails to start or to be seeded leaves no server behind.
    try {
        const answering = await pollUntil(
            async () =>
                (await runCommand("curl", ["-sf", "--cacert", settings.ca.certFile, `${endpoint}/moto-api/`], { allowFailure: true }))
                    .exitCode === 0
                    ? true
                    : undefined,
            { timeoutMs: START_WAIT_MS, intervalMs: 200, worthWaiting: () => isProcessAlive(pid) },
        );
        if (answering === undefined) {
            throw new Error(
                `moto did not answer at ${endpoint} within ${START_WAIT_MS / 1000} s; see ${logFile}:\n${readFileSync(logFile, "utf8").slice(-2000)}`,
            );
        }
        const connection = { endpoint, region: settings.region, caBundle: settings.ca.certFile };
        const seeded = (await runPython("seed.py", {
            ...connection,
            bucket: settings.bucket,
            roleName: settings.roleName,
            secrets: settings.secrets ?? {},
        })) as Pick<ObjectStoreRecord, "admin" | "role" | "secretArns">;
        const record: ObjectStoreRecord = { ...connection, bucket: settings.bucket, ...seeded };
        const store = objectStoreFrom(record, pidFile);
        const policy = {
            RoleName: settings.roleName,
            PolicyName: "stack",
            PolicyDocument: motoPolicy(settings.rolePolicy(record.secretArns)),
        };
        resultOf(await store.call(record.admin, "put_role_policy", policy, "iam"), `The role ${settings.roleName}'s policy`);
        log(`AWS (moto ${MOTO_VERSION}) at ${endpoint}: bucket ${settings.bucket}, role ${record.role.arn}`);
        writeFileSync(objectStoreRecordFile(settings.directory), JSON.stringify(record), { mode: 0o600 });
        return store;
    } catch (error) {
        await stop();
        throw error;
    }
}
