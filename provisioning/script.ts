import * as fs from "fs";
import * as path from "path";
import { APT_LISTS_FETCHED_STAMP, PENDING_ACTIONS_DIR, PROVISIONING_LOG_FILE, STEP_RECORDS_DIR } from "./layout";
import type { PlanInputs, PlanInputValue, RunStep, ScriptTemplate } from "./plan";

/**
 * Renders the bash scripts that plan steps run as root. Every script gets the same strict header,
 * its settings as quoted `export` lines, and a small library of idempotent helpers that count what
 * they change; the script ends by printing `changed: N`, which the sandbox runner and the
 * end-to-end tests read (a second run of the plan must print `changed: 0` everywhere).
 */

/** Quotes a value for bash so that it is taken literally. */
export function shellQuote(value: string): string {
    return `'${value.replace(/'/g, `'\\''`)}'`;
}

const ENV_NAME = /^[A-Z_][A-Z0-9_]*$/;

/** One `export NAME='value'` line per setting, in the order given. */
export function exportLines(settings: Readonly<Record<string, string | number | boolean>>): string {
    return Object.entries(settings)
        .map(([name, value]) => {
            if (!ENV_NAME.test(name)) {
                throw new Error(`Script setting "${name}" is not a valid shell variable name (for example APP_PORT).`);
            }
            const line = `export ${name}=${shellQuote(String(value))}`;
            // A setting is literal text (a config file may hold $uri); shellcheck would suspect a missed expansion.
            return /[$`]/.test(String(value)) ? `# shellcheck disable=SC2016\n${line}` : line;
        })
        .join("\n");
}

/** A quoted value as {@link shellQuote} writes it: quotes, with each quote inside as '\\''. */
const QUOTED_EXPORT = /^export ([A-Z_][A-Z0-9_]*)='((?:[^']|'\\'')*)'$/gm;

/**
 * The settings a script rendered by {@link renderScript} exports, in order, read back from its
 * `export` lines (the inverse of {@link exportLines}); what the library and body do is not read.
 */
export function scriptSettings(script: string): [name: string, value: string][] {
    const end = script.indexOf(SCRIPT_LIBRARY.trim());
    const header = end === -1 ? script : script.slice(0, end);
    return [...header.matchAll(QUOTED_EXPORT)].map((match) => [match[1], match[2].replace(/'\\''/g, "'")]);
}

const SCRIPTS_DIR = path.join(__dirname, "scripts");

/**
 * The body of a step's script: `provisioning/scripts/<name>.sh`, without the `shell=bash` directive
 * that lets shellcheck read the file on its own.
 */
export function scriptBody(name: string): string {
    return scriptFileBody(path.join(SCRIPTS_DIR, `${name}.sh`));
}

/** The body of a bash file anywhere (an executor's own script), read as {@link scriptBody} reads a step's. */
export function scriptFileBody(file: string): string {
    return fs.readFileSync(file, "utf8").replace(/^# shellcheck shell=bash\n/, "");
}

/** The helpers every script gets: `provisioning/scripts/library.sh`. */
export const SCRIPT_LIBRARY = scriptBody("library");

export interface ScriptSpec {
    /** What the script does, in a few words; the script's first comment. */
    readonly description: string;
    /** Settings written into the script as `export` lines. */
    readonly settings?: Readonly<Record<string, string | number | boolean>>;
    /** The script's own commands, usually {@link scriptBody}; it may use the helpers of {@link SCRIPT_LIBRARY}. */
    readonly body: string;
}

/** What the helpers of {@link SCRIPT_LIBRARY} need, in every script. */
const LIBRARY_SETTINGS = { APT_LISTS_FETCHED_STAMP, PENDING_ACTIONS_DIR, PROVISIONING_LOG_FILE };

/** The settings every step's script gets from the platform, not from its own spec. */
export const PLATFORM_SETTINGS: readonly string[] = [...Object.keys(LIBRARY_SETTINGS), "PLAN_STEP", "STEP_RECORDS_DIR"];

function scriptLines(spec: ScriptSpec, stepSettings: Readonly<Record<string, string>> = {}): string[] {
    const settings = `${exportLines({ ...LIBRARY_SETTINGS, ...stepSettings, ...spec.settings })}\n`;
    return ["#!/usr/bin/env bash", "set -euo pipefail", `# ${spec.description}`, `${settings}${SCRIPT_LIBRARY.trim()}`, spec.body.trim()];
}

/**
 * A complete, self-contained bash script for the run step `stepName`; its last line of output is
 * `changed: N`, and before it the step records the files it put (record_owned_files).
 * The executors feed the script to `bash -s` on stdin, and bash reads a script from a pipe as it
 * goes: a command that reads stdin (apt, a database client, systemd-run --pipe) would swallow the
 * rest of the script. So the whole script is one group, which bash reads to the end before it runs
 * any of it, and the group's stdin is /dev/null.
 */
export function renderScript(stepName: string, spec: ScriptSpec): string {
    const [shebang, strict, ...rest] = scriptLines(spec, { PLAN_STEP: stepName, STEP_RECORDS_DIR });
    return [shebang, strict, "{", ...rest, "record_owned_files", `echo "changed: $changed"`, "} </dev/null", ""].join("\n");
}

/**
 * A command installed on the server (for example /usr/local/sbin/webstack-activate): the same
 * header, settings and helpers as a step's script, without the `changed: N` report, which belongs
 * to the step that runs it.
 */
export function renderCommand(spec: ScriptSpec): string {
    return [...scriptLines(spec), ""].join("\n");
}

/** A run step whose script is {@link renderScript} of the spec. */
export function runStep(name: string, spec: ScriptSpec, options: { needsDns?: boolean } = {}): RunStep {
    return { kind: "run", name, script: renderScript(name, spec), ...(options.needsDns ? { needsDns: true } : {}) };
}

/** A run step whose script is {@link renderScript} of the spec that `input`'s value gives, when the plan is applied. */
export function runStepFrom<Input extends keyof PlanInputs>(
    name: string,
    input: Input,
    spec: (value: PlanInputValue<Input>) => ScriptSpec,
    options: { needsDns?: boolean } = {},
): RunStep {
    // TypeScript cannot pair a generic key with its member of the union; the signature above does.
    const script = { input, render: (value: PlanInputValue<Input>) => renderScript(name, spec(value)) } as ScriptTemplate;
    return { kind: "run", name, script, ...(options.needsDns ? { needsDns: true } : {}) };
}
