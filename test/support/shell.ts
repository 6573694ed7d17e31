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
