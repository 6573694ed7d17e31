import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { stepScript, type InputsFor, type Plan, type PlanInputs } from "../../provisioning/plan";
import { IMDS_ROLE_WAIT_SECONDS } from "../../provisioning/layout";
import { exportLines, scriptBody, scriptFileBody } from "../../provisioning/script";

/**
 * The third executor, beside RemoteProvisioner and the sandbox's runner: a plan that a fleet's server
 * applies to itself at first boot, through cloud-init, with nobody's SSH. Each step is an object of
 * the fleet's versioned bucket, named by the step (`plan/<step>`): a changed step is a new version of
 * the same object, and the index pins, in plan order, the version and SHA-256 of each. EC2's user
 * data holds 16 KiB and a plan's scripts about 130 KiB, so the user data carries only the index's
 * version and hash and the first-boot script that applies it (`first-boot.sh`, beside this file).
 *
 * Pinned versions are what make a rollback work: a launch template's earlier version still names
 * the versions its servers booted from, which S3 keeps after they are replaced (for as long as the
 * bucket's lifecycle rule says), where a content-named object would be deleted, all its versions
 * with it, by the deploy that replaced it.
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

/** The SHA-256 a first boot checks an object against, in hex. */
export function contentSha256(content: string | Buffer): string {
    return createHash("sha256").update(content).digest("hex");
}

/** The key of the plan's index object. */
export const PLAN_INDEX_KEY = "plan/index";

/** The bucket key of a step's object: the step's name, so that a changed step is a new version of the same object. */
export function planObjectKey(stepName: string): string {
    return `plan/${stepName}`;
}

/** The plan's steps as bucket objects, in plan order, each keyed by its step's name under `plan/`. */
export function planObjects<Needs extends keyof PlanInputs = never>(plan: Plan<Needs>, inputs: NoInfer<InputsFor<Needs>>): PlanObject[] {
    return plan.map((step) => {
        if (step.kind === "upload") {
            const hash = contentSha256(fs.readFileSync(step.localPath));
            return {
                step: step.name,
                kind: "upload",
                key: planObjectKey(step.name),
                sha256: hash,
                localPath: step.localPath,
                remotePath: step.remotePath,
            };
        }
        const content = stepScript(step, inputs);
        const hash = contentSha256(content);
        return { step: step.name, kind: "run", key: planObjectKey(step.name), sha256: hash, content };
    });
}

/** A plan object as the bucket holds it: with the version S3 gave the put that wrote it. */
export interface StoredPlanObject extends PlanObject {
    readonly versionId: string;
}

/** The index the first boot walks: one line per step, `kind name key versionId sha256 [path]`. */
export function renderPlanIndex(objects: readonly StoredPlanObject[]): string {
    return objects
        .map((object) => {
            if (!/^\S+$/.test(object.versionId)) {
                throw new Error(
                    `The plan object ${object.key} has no version ("${object.versionId}"): is the bucket's versioning enabled?`,
                );
            }
            const fields = [object.kind, object.step, object.key, object.versionId, object.sha256];
            return [...fields, ...(object.remotePath ? [object.remotePath] : [])].join(" ") + "\n";
        })
        .join("");
}

export interface FirstBootSettings {
    readonly region: string;
    readonly bucket: string;
    /** The version of {@link PLAN_INDEX_KEY} that this launch template's servers apply. */
    readonly indexVersionId: string;
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

/** The first-boot script with its settings (`first-boot.sh`) and the AWS requests it makes (`aws.sh`, which the fleet step shares). */
export function renderFirstBootScript(settings: FirstBootSettings, endpoints: FirstBootEndpoints = awsEndpoints(settings)): string {
    const exports = exportLines({
        REGION: settings.region,
        S3_ENDPOINT: endpoints.s3,
        IMDS_ENDPOINT: endpoints.imds,
        IMDS_ROLE_WAIT_SECONDS,
        INDEX_KEY: PLAN_INDEX_KEY,
        INDEX_VERSION_ID: settings.indexVersionId,
        INDEX_SHA256: settings.indexSha256,
        WORK_DIR: endpoints.workDir,
    });
    return ["#!/bin/bash", "set -euo pipefail", exports, scriptBody("aws"), scriptFileBody(path.join(__dirname, "first-boot.sh"))].join(
        "\n",
    );
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
