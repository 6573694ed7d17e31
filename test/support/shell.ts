import { spawnSync } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";

/** Test helpers: real tools (bash, shellcheck, nginx) run on rendered text, temporary directories, free ports. */

/** shellcheck's findings for a bash script; "" when it is clean. */
export function shellcheck(script: string): string {
    const result = spawnSync("shellcheck", ["-s", "bash", "-"], { input: script, encoding: "utf8" });
    if (result.error) {
        throw new Error(`shellcheck could not run (${result.error.message}); install it: apt-get install shellcheck`);
    }
    return result.stdout;
}

/** Runs a bash script; returns its exit status and output. */
export function runBash(script: string, env: NodeJS.ProcessEnv = {}): { status: number | null; stdout: string; stderr: string } {
    const result = spawnSync("bash", ["-c", script], { encoding: "utf8", env: { ...process.env, ...env } });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** A rendered script with its settings' values replaced (the first export line of each name): its paths moved into a test's directory. */
export function relocated(script: string, settings: Record<string, string>): string {
    return Object.entries(settings).reduce(
        (text, [name, value]) => text.replace(new RegExp(`^export ${name}=.*$`, "m"), `export ${name}='${value}'`),
        script,
    );
}

/** A fresh temporary directory, removed after the suite by the caller's `after`. */
export function temporaryDirectory(prefix: string): string {
    return fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-`));
}

/** A loopback TCP port free at the time of asking. */
export function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = net.createServer().listen(0, "127.0.0.1", () => {
            const address = server.address() as net.AddressInfo;
            server.close(() => resolve(address.port));
        });
        server.on("error", reject);
    });
}

const HELPER_DEFINITION = /^([a-z_]+)\(\) \{\n([\s\S]*?)\n\}$/gm;
const SETTING_REFERENCE = /\$\{?([A-Z][A-Z0-9_]*)(?![a-z])/g;

/** The helpers of a script library by name, each with the body that defines it. */
function helperBodies(library: string): Map<string, string> {
    return new Map([...library.matchAll(HELPER_DEFINITION)].map(([, name, body]) => [name, body]));
}

/**
 * The settings a rendered script leaves unset although a library helper it calls reads them:
 * under `set -u` each would stop the script with "unbound variable" the first time that helper runs.
 */
export function settingsMissingForHelpers(script: string, library: string): string[] {
    const helpers = helperBodies(library);
    // The script's own commands follow the library; the settings before it may quote other scripts.
    const libraryStart = script.indexOf(library.trim());
    if (libraryStart < 0) {
        throw new Error("the script does not hold the library; render it with renderScript or renderCommand");
    }
    const libraryEnd = libraryStart + library.trim().length;
    const ownText = script.slice(libraryEnd);
    const called = new Set<string>();
    const pending = [ownText];
    while (pending.length > 0) {
        const text = pending.pop() ?? "";
        for (const [name, body] of helpers) {
            if (!called.has(name) && new RegExp(`(^|[\\s;(|&!])${name}\\b(?!\\(\\))`, "m").test(text)) {
                called.add(name);
                pending.push(body);
            }
        }
    }
    const read = [...called].flatMap((name) => [...(helpers.get(name) ?? "").matchAll(SETTING_REFERENCE)].map(([, setting]) => setting));
    return [...new Set(read)].filter((setting) => !new RegExp(`^export ${setting}=`, "m").test(script)).sort();
}
