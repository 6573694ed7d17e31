import { createHash } from "node:crypto";
import { join } from "node:path";
import { writeContentAddressedDirectory } from "../release/build";
import { repairLines } from "./driftCheck";
import { PLATFORM_SETTINGS, SCRIPT_LIBRARY, scriptSettings, shellQuote } from "../provisioning/script";

/**
 * How the Pulumi executor keeps the steps' scripts out of the stack's state. A Command stores its
 * stdin twice (inputs and outputs), and the scripts of a plan come to hundreds of KiB, every one
 * carrying the helper library. So the scripts go to the server as files, in one upload of a local
 * directory (the state keeps its path and hash), each named after its step and its content's hash;
 * a step's stdin is a short launcher that checks the file is that script and runs it. The launcher
 * holds the hash and a line per setting, so a preview still names the step, and the setting, that changed.
 *
 * A script that holds secrets never lands in a file on either machine: it stays on stdin, as a
 * secret, and sources the helper library from the upload instead of carrying it.
 */

/** Where the upload puts the scripts on the server: relative to the login user's home, where SFTP starts and `sudo` keeps the working directory. */
export const SHIPPED_SCRIPTS_DIR = ".webstack/scripts";

/** A script as it travels: its file name in {@link SHIPPED_SCRIPTS_DIR}, its SHA-256 and its content. */
export interface ShippedScript {
    readonly fileName: string;
    readonly sha256: string;
    readonly content: string;
}

/** How many hex digits of the hash a file name carries: enough to tell versions apart, the full hash is checked. */
const NAME_HASH_DIGITS = 16;
/** How many a setting's hash shows: a preview tells a changed value from an unchanged one. */
const SETTING_HASH_DIGITS = 12;

/** The script `content` as the file `<stem>-<hash>.sh`. */
export function shippedScript(stem: string, content: string): ShippedScript {
    const sha256 = createHash("sha256").update(content).digest("hex");
    return { fileName: `${stem}-${sha256.slice(0, NAME_HASH_DIGITS)}.sh`, sha256, content };
}

/** The helper library, as the steps whose script stays on stdin source it. */
export const SHIPPED_LIBRARY = shippedScript("library", `${SCRIPT_LIBRARY.trim()}\n`);

/** Lines that set `variable` to the file's path and stop unless the file on the server is exactly this script. */
function checkedPathLines(variable: string, script: ShippedScript, uploadResource: string): string[] {
    return [
        `${variable}=${shellQuote(`${SHIPPED_SCRIPTS_DIR}/${script.fileName}`)}`,
        `if ! sha256sum --check --status <<<"${script.sha256}  $${variable}"; then`,
        `  echo "error: $${variable} is missing or altered; upload again: pulumi up --replace <URN of ${uploadResource}>" >&2`,
        "  exit 1",
        "fi",
    ];
}

/**
 * Removes the other versions of a stem's file once the step that uses this one succeeded, so the
 * directory holds one per stem. The pattern has the hash's length, so that stem `app` spares `app-environment-<hash>.sh`.
 */
function pruneLine(stem: string, kept: ShippedScript): string {
    const versions = `${stem}-${"?".repeat(NAME_HASH_DIGITS)}.sh`;
    return `find ${SHIPPED_SCRIPTS_DIR} -maxdepth 1 -name ${shellQuote(versions)} ! -name ${shellQuote(kept.fileName)} -delete`;
}

/** Longer settings, or those of several lines (a rendered file), are listed by their hash. */
const LISTED_VALUE_LIMIT = 64;

/** A setting that says where something lives (a path), not what it holds: it changes with the scripts, if ever. */
const PATH_VALUE = /^\/[\w./@%+-]*$/;

/**
 * One comment line per setting of the script's own (not the platform's, nor a path): short ones with
 * their value, the others with their hash. A preview's diff of the launcher thus names the setting,
 * often a file's content, that changed; every line is kept twice in the state, so paths stay out.
 */
export function settingsSummary(script: string): string[] {
    return scriptSettings(script)
        .filter(([name, value]) => !PLATFORM_SETTINGS.includes(name) && !PATH_VALUE.test(value))
        .map(([name, value]) =>
            value.length <= LISTED_VALUE_LIMIT && !value.includes("\n")
                ? `#   ${name}=${value}`
                : `#   ${name} sha256:${createHash("sha256").update(value).digest("hex").slice(0, SETTING_HASH_DIGITS)}`,
        );
}

/**
 * A step's stdin when its script was uploaded: what the script is set to do and the repair it
 * makes (driftCheck.ts), then check the file, run it, record the repair, and prune the step's older
 * versions.
 */
export function scriptLauncher(stepName: string, script: ShippedScript, uploadResource: string, repair = ""): string {
    const { before, after } = repairLines(stepName, repair);
    return [
        "#!/usr/bin/env bash",
        "set -euo pipefail",
        `# Step "${stepName}": its script came with ${uploadResource}. Its settings:`,
        ...settingsSummary(script.content),
        ...before,
        ...checkedPathLines("script", script, uploadResource),
        'bash "$script" </dev/null',
        ...after,
        pruneLine(stepName, script),
        "",
    ].join("\n");
}

/**
 * A script that stays on stdin, with the helper library it carries replaced by sourcing the uploaded
 * {@link SHIPPED_LIBRARY}, and a repair (driftCheck.ts) around it; the script is otherwise unchanged
 * (provisioning/script.ts renders the library as one block after the settings, which it needs).
 */
export function scriptSourcingLibrary(stepName: string, script: string, uploadResource: string, repair = ""): string {
    const library = SCRIPT_LIBRARY.trim();
    const at = script.indexOf(library);
    if (at === -1 || script.indexOf(library, at + 1) !== -1) {
        throw new Error("A step's script does not carry the helper library exactly once; render it with provisioning/script.ts.");
    }
    const sourcing = [
        ...checkedPathLines("library", SHIPPED_LIBRARY, uploadResource),
        "# shellcheck source=/dev/null",
        'source "$library"',
    ].join("\n");
    // The stdin is secret, so a preview shows no comment of it: the record of the repair is what changes it.
    const { after } = repairLines(stepName, repair);
    const rest = script.slice(at + library.length);
    const [shebang, ...lines] =
        `${script.slice(0, at)}${sourcing}${rest}${[...after, pruneLine("library", SHIPPED_LIBRARY)].join("\n")}\n`.split("\n");
    // shellcheck cannot follow the library to the server, where it sets what the script reads (the change count).
    return [shebang, "# shellcheck disable=SC2154", ...lines].join("\n");
}

/**
 * Writes the scripts into `<parent>/<hash of the set>/`, unless an earlier run wrote that set, and
 * returns the directory with a trailing slash: CopyToRemote then copies its files, not the directory.
 */
export function writeShippedScripts(scripts: readonly ShippedScript[], parent: string): string {
    const files = [...scripts].sort((a, b) => a.fileName.localeCompare(b.fileName));
    const setHash = createHash("sha256");
    for (const file of files) {
        setHash.update(`${file.fileName}\0${file.sha256}\0`);
    }
    const directory = join(parent, setHash.digest("hex").slice(0, NAME_HASH_DIGITS));
    writeContentAddressedDirectory(
        directory,
        files.map((file) => ({ path: file.fileName, content: Buffer.from(file.content) })),
    );
    return `${directory}/`;
}
