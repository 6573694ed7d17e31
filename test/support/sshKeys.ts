import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

/** A fresh ed25519 key pair made by ssh-keygen (options added), and its public key as ssh-keygen wrote it, without the comment. */
export function sshKeyPair(name: string, ...options: string[]): { privateKey: string; publicKey: string } {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), "webstack-key-"));
    try {
        const file = path.join(directory, name);
        const made = spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "comment", ...options, "-f", file], {
            encoding: "utf8",
        });
        if (made.status !== 0) {
            throw new Error(`ssh-keygen failed: ${made.stderr}`);
        }
        return {
            privateKey: fs.readFileSync(file, "utf8"),
            publicKey: fs.readFileSync(`${file}.pub`, "utf8").split(" ").slice(0, 2).join(" "),
        };
    } finally {
        fs.rmSync(directory, { recursive: true, force: true });
    }
}
