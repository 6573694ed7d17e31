import { Client } from "ssh2";
import { STEP_RECORDS_DIR } from "../provisioning/layout";
import { RUN_AS_ROOT } from "../provisioning/plan";
import { renderCommand, scriptBody, shellQuote } from "../provisioning/script";

/**
 * Drift that a preview shows. pulumi-command cannot read a server back (its Command has no Read),
 * so a hand edit would survive `refresh` and `up`. Instead, every step records the hashes of the
 * files it put (record_owned_files in the script library), and the program asks the server, as it
 * runs, which of them changed: a step with such a file gets a repair line in its stdin, so the
 * preview shows it as an update and `up` runs it, which puts the files back. The step then records
 * the repair, and the next run reads it back as the line to keep: the next preview is clean.
 */

/** The read-only script that reports each step's changed files and last repair (provisioning/scripts/drift-check.sh). */
export const DRIFT_CHECK_SCRIPT = renderCommand({
    description: "Report the files each step put that changed since, and each step's last repair.",
    settings: { STEP_RECORDS_DIR },
    body: scriptBody("drift-check"),
});

/** What the drift check found for one step: the files changed since it ran ("" for none), and its last repair ("" for none). */
export interface StepDrift {
    readonly changedFiles: string;
    readonly lastRepair: string;
}

/** What the drift check found, by step name. */
export type DriftReport = Readonly<Record<string, StepDrift>>;

/** The drift check's report: a step's name, its changed files and its last repair on each line, tab-separated. */
export function parseDriftReport(report: string): DriftReport {
    return Object.fromEntries(
        report
            .split("\n")
            .filter((line) => line !== "")
            .map((line) => {
                const [step, changedFiles = "", lastRepair = ""] = line.split("\t");
                return [step, { changedFiles, lastRepair }];
            }),
    );
}

/**
 * The repair a step's stdin carries: none for a step the server has no record of; its last one
 * while nothing changed, so that a repaired step stays unchanged; a new, numbered one naming the
 * changed files otherwise.
 */
export function repairFor(drift: StepDrift | undefined): string {
    if (drift === undefined || drift.changedFiles === "") {
        return drift?.lastRepair ?? "";
    }
    const previous = Number(/^repair (\d+):/.exec(drift.lastRepair)?.[1] ?? 0);
    return `repair ${previous + 1}: ${drift.changedFiles} changed on the server`;
}

/** The lines around a step's script for a repair: a comment before (what the preview shows), and the record after it succeeded. */
export function repairLines(stepName: string, repair: string): { before: string[]; after: string[] } {
    if (repair === "") {
        return { before: [], after: [] };
    }
    return {
        before: [`# Puts back what its files were: ${repair.replace(/\n/g, " ")}`],
        after: [`printf '%s\\n' ${shellQuote(repair)} > ${shellQuote(`${STEP_RECORDS_DIR}/${stepName}.repair`)}`],
    };
}

/** How the program reaches the server for the drift check: the steps' own connection, its host key pinned. */
export interface DriftCheckTarget {
    readonly host: string;
    readonly port: number;
    readonly user: string;
    /** "ssh-ed25519 AAAA...": the only key the server may present. */
    readonly hostKey: string;
    /** Defaults to the ssh-agent at SSH_AUTH_SOCK. */
    readonly privateKey?: string;
}

const CONNECT_TIMEOUT_MS = 20_000;

/** Where the program asks: the server, over SSH; tests under Pulumi mocks, where no server exists, put a stand-in here. */
export const driftSource = { read: (target: DriftCheckTarget) => readDrift(target) };

/** Runs the drift check on the server over SSH, as root, and returns its report. */
export function readDrift(target: DriftCheckTarget): Promise<DriftReport> {
    const [keyType, keyBase64] = target.hostKey.trim().split(/\s+/);
    const pinned = Buffer.from(keyBase64 ?? "", "base64");
    return new Promise((resolve, reject) => {
        const client = new Client();
        const fail = (error: Error) => {
            client.end();
            reject(error);
        };
        client
            .on("ready", () => {
                client.exec(RUN_AS_ROOT, (error, stream) => {
                    if (error) {
                        fail(error);
                        return;
                    }
                    let stdout = "";
                    let stderr = "";
                    stream.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
                    stream.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
                    stream.on("close", (code: number | null) => {
                        client.end();
                        if (code === 0) {
                            resolve(parseDriftReport(stdout));
                        } else {
                            reject(new Error(`the drift check exited with ${code}: ${stderr.trim()}`));
                        }
                    });
                    stream.end(DRIFT_CHECK_SCRIPT);
                });
            })
            .on("error", fail)
            .connect({
                host: target.host,
                port: target.port,
                username: target.user,
                ...(target.privateKey === undefined ? { agent: process.env.SSH_AUTH_SOCK } : { privateKey: target.privateKey }),
                readyTimeout: CONNECT_TIMEOUT_MS,
                algorithms: { serverHostKey: [keyType as "ssh-ed25519"] },
                hostVerifier: (key: Buffer) => key.equals(pinned),
            });
    });
}
