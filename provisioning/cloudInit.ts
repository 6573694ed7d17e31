import { createHash } from "crypto";
import * as fs from "fs";
import { stepScript, type Plan, type PlanInputs } from "./plan";
import { IMDS_ROLE_WAIT_SECONDS } from "./layout";
import { exportLines, scriptBody } from "./script";

/**
 * The third executor, beside RemoteProvisioner and the sandbox's runner: a plan that a fleet's server
 * applies to itself at first boot, through cloud-init, with nobody's SSH. Each step becomes an
 * object of the fleet's bucket named by its content's SHA-256 (a changed step is a new object); an
 * index lists them in plan order. EC2's user data holds 16 KiB and a plan's scripts about 130 KiB,
 * so the user data carries only the index's key and hash and the first-boot script that applies it
 * (`scripts/first-boot.sh`).
 */

/** One step of a plan as an object of the bucket: a script to run, or a file for an upload's path. */
export interface PlanObject {
    readonly step: string;
    readonly kind: "run" | "upload";
    readonly key: string;
    readonly sha256: string;
    /** A run step's script. */
    readonly content?: string;
    /** An upload's file on the workstation, and where it goes on the server. */
    readonly localPath?: string;
    readonly remotePath?: string;
}

/** Where a fleet server's first boot keeps the index and the scripts it ran. */
const FIRST_BOOT_DIR = "/var/lib/webstack/first-boot";
const FIRST_BOOT_COMMAND = "/usr/local/sbin/webstack-first-boot";

function sha256(content: string | Buffer): string {
    return createHash("sha256").update(content).digest("hex");
}

/** The plan's steps as bucket objects, in plan order, each keyed by its content's hash under `plan/`. */
export function planObjects(plan: Plan, inputs: PlanInputs): PlanObject[] {
    return plan.map((step) => {
        if (step.kind === "upload") {
            const hash = sha256(fs.readFileSync(step.localPath));
            return {
                step: step.name,
                kind: "upload",
                key: `plan/${hash}`,
                sha256: hash,
                localPath: step.localPath,
                remotePath: step.remotePath,
            };
        }
        const content = stepScript(step, inputs);
        const hash = sha256(content);
        return { step: step.name, kind: "run", key: `plan/${hash}`, sha256: hash, content };
    });
}

/** The index the first boot walks: one line per step, `kind name key sha256 [path]`. */
export function renderPlanIndex(objects: readonly PlanObject[]): string {
    return objects
        .map(
            (object) =>
                [object.kind, object.step, object.key, object.sha256, ...(object.remotePath ? [object.remotePath] : [])].join(" ") + "\n",
        )
        .join("");
}

/** The index as its own object: its key and hash are what the user data carries. */
export function indexObject(index: string): { readonly key: string; readonly sha256: string } {
    const hash = sha256(index);
    return { key: `plan/index-${hash}`, sha256: hash };
}

export interface FirstBootSettings {
    readonly region: string;
    readonly bucket: string;
    readonly indexKey: string;
    readonly indexSha256: string;
}

/** Where the first boot reaches S3 and the instance metadata service: AWS's, or stand-ins of a test. */
export interface FirstBootEndpoints {
    readonly s3: string;
    readonly imds: string;
    readonly workDir: string;
}

/** AWS's own endpoints for a bucket, as a launch template's server reaches them. */
export function awsEndpoints(settings: FirstBootSettings): FirstBootEndpoints {
    return {
        s3: `https://${settings.bucket}.s3.${settings.region}.amazonaws.com`,
        imds: "http://169.254.169.254",
        workDir: FIRST_BOOT_DIR,
    };
}

/** The first-boot script with its settings (`scripts/first-boot.sh`). */
export function renderFirstBootScript(settings: FirstBootSettings, endpoints: FirstBootEndpoints = awsEndpoints(settings)): string {
    const exports = exportLines({
        REGION: settings.region,
        S3_ENDPOINT: endpoints.s3,
        IMDS_ENDPOINT: endpoints.imds,
        IMDS_ROLE_WAIT_SECONDS,
        INDEX_KEY: settings.indexKey,
        INDEX_SHA256: settings.indexSha256,
        WORK_DIR: endpoints.workDir,
    });
    return ["#!/bin/bash", "set -euo pipefail", exports, scriptBody("aws"), scriptBody("first-boot")].join("\n");
}

/** The launch template's user data: cloud-init writes the first-boot script and runs it once, last. */
export function renderFirstBootUserData(settings: FirstBootSettings): string {
    return [
        "#cloud-config",
        "write_files:",
        `  - path: ${FIRST_BOOT_COMMAND}`,
        '    permissions: "0700"',
        "    encoding: b64",
        `    content: ${Buffer.from(renderFirstBootScript(settings)).toString("base64")}`,
        "runcmd:",
        `  - [${FIRST_BOOT_COMMAND}]`,
        "",
    ].join("\n");
}

/** EC2 refuses user data over 16 KiB. */
export const USER_DATA_MAX_BYTES = 16 * 1024;
