import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

/**
 * AWS's own API models: the JSON service definitions that botocore (AWS's SDK for Python) ships,
 * fetched from PyPI at a pinned version, so that the program's inputs can be checked against the
 * patterns, lengths, ranges and enums AWS enforces (mocks accept anything).
 */

/** The botocore release whose models the checks read; move it deliberately, and read the diff of what it finds. */
export const BOTOCORE_VERSION = "1.44.8";

/** The services (botocore's names) whose models the program's resources need. */
export const MODEL_SERVICES = [
    "acm",
    "autoscaling",
    "cloudwatch",
    "dlm",
    "ec2",
    "elbv2",
    "iam",
    "rds",
    "route53",
    "s3",
    "secretsmanager",
    "sns",
] as const;
export type ModelService = (typeof MODEL_SERVICES)[number];

/** One shape of a model, as botocore's service-2.json writes it. */
export interface Shape {
    readonly type: "structure" | "list" | "map" | "string" | "integer" | "long" | "double" | "float" | "boolean" | "timestamp" | "blob";
    readonly members?: Readonly<Record<string, { readonly shape: string; readonly locationName?: string }>>;
    /** The members a request must carry. */
    readonly required?: readonly string[];
    readonly member?: { readonly shape: string };
    readonly key?: { readonly shape: string };
    readonly value?: { readonly shape: string };
    readonly pattern?: string;
    readonly min?: number;
    readonly max?: number;
    readonly enum?: readonly string[];
}

export interface ServiceModel {
    readonly metadata: { readonly apiVersion: string; readonly serviceId: string };
    readonly operations: Readonly<Record<string, { readonly input?: { readonly shape: string } }>>;
    readonly shapes: Readonly<Record<string, Shape>>;
}

function modelsDir(): string {
    return join(process.env.WEBSTACK_AWS_MODELS_DIR ?? join(homedir(), ".cache", "webstack-aws-models"), `botocore-${BOTOCORE_VERSION}`);
}

/**
 * The directory holding `<service>.json` for every {@link MODEL_SERVICES}, each the newest API
 * version botocore ships; downloaded with pip and unpacked on first use, then cached.
 */
export function ensureAwsModels(): string {
    const dir = modelsDir();
    if (MODEL_SERVICES.every((service) => existsSync(join(dir, `${service}.json`)))) {
        return dir;
    }
    const download = join(dir, "download");
    mkdirSync(download, { recursive: true });
    const pip = spawnSync(
        "python3",
        ["-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:", "-d", download, `botocore==${BOTOCORE_VERSION}`],
        { encoding: "utf8" },
    );
    if (pip.status !== 0) {
        throw new Error(
            `pip could not download botocore ${BOTOCORE_VERSION} from PyPI (python3 -m pip download botocore==${BOTOCORE_VERSION}): ${pip.stderr.trim()}`,
        );
    }
    const unpack = [
        "import glob, gzip, os, sys, zipfile",
        "wheel = zipfile.ZipFile(glob.glob(os.path.join(sys.argv[1], 'botocore-*.whl'))[0])",
        "for service in sys.argv[3:]:",
        "    names = sorted(n for n in wheel.namelist() if n.startswith(f'botocore/data/{service}/') and n.split('/')[-1] in ('service-2.json', 'service-2.json.gz'))",
        "    data = wheel.read(names[-1])",
        "    data = gzip.decompress(data) if names[-1].endswith('.gz') else data",
        "    open(os.path.join(sys.argv[2], service + '.json'), 'wb').write(data)",
    ].join("\n");
    const unpacked = spawnSync("python3", ["-c", unpack, download, dir, ...MODEL_SERVICES], { encoding: "utf8" });
    if (unpacked.status !== 0) {
        throw new Error(`Could not unpack botocore's models: ${unpacked.stderr.trim()}`);
    }
    rmSync(download, { recursive: true, force: true });
    return dir;
}

/** The API model of one service (its newest API version in the pinned botocore). */
export function loadModel(dir: string, service: ModelService): ServiceModel {
    return JSON.parse(readFileSync(join(dir, `${service}.json`), "utf8")) as ServiceModel;
}
