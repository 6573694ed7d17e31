import { expect } from "chai";
import { createHash } from "node:crypto";
import * as fs from "fs";
import * as path from "path";
import {
    scriptLauncher,
    scriptSourcingLibrary,
    settingsSummary,
    SHIPPED_LIBRARY,
    SHIPPED_SCRIPTS_DIR,
    shippedScript,
    writeShippedScripts,
} from "../../../components/shippedScripts";
import { STEP_RECORDS_DIR } from "../../../provisioning/layout";
import { renderScript } from "../../../provisioning/script";
import { runBash, shellcheck, temporaryDirectory } from "../../support/shell";

/**
 * A login user's home, with the steps' records kept in it rather than in the host's /var/lib: the
 * scripts and stdins of a test go through `local` first, so that their hashes are of what runs.
 */
const homes: string[] = [];
after(() => homes.forEach((home) => fs.rmSync(home, { recursive: true, force: true })));

function loginHome(): { home: string; local: (text: string) => string } {
    const home = temporaryDirectory("webstack-home");
    homes.push(home);
    fs.mkdirSync(path.join(home, SHIPPED_SCRIPTS_DIR), { recursive: true });
    return { home, local: (text) => text.split(STEP_RECORDS_DIR).join(path.join(home, "records")) };
}

function upload(home: string, scripts: readonly { fileName: string; content: string }[]): void {
    for (const script of scripts) {
        fs.writeFileSync(path.join(home, SHIPPED_SCRIPTS_DIR, script.fileName), script.content);
    }
}

/** Runs a step's stdin as the executor does: bash -s in the login user's home. */
function runStdin(stdin: string, home: string) {
    return runBash(`cd ${home} && bash -s <<'STDIN'\n${stdin}STDIN`);
}

const greeting = renderScript("greet", { description: "Say hello.", settings: { GREETING: "hello" }, body: 'echo "$GREETING"' });

describe("shippedScript", () => {
    it("names the file after its step and the start of its content's SHA-256", () => {
        const script = shippedScript("nginx", "echo hi\n");
        expect(script.sha256).to.equal(createHash("sha256").update("echo hi\n").digest("hex"));
        expect(script.fileName).to.equal(`nginx-${script.sha256.slice(0, 16)}.sh`);
        expect(shippedScript("nginx", "echo bye\n").fileName).to.not.equal(script.fileName);
    });
});

describe("settingsSummary", () => {
    it("lists the step's own settings, short ones with their value and long ones by hash, without the platform's or paths", () => {
        const script = renderScript("site", {
            description: "d",
            settings: { SITE_FILE: "/etc/site", APP_PORTS: "3001 3002", SITE: "line one\nline two" },
            body: "true",
        });
        const summary = settingsSummary(script);
        expect(summary[0]).to.equal("#   APP_PORTS=3001 3002");
        expect(summary[1]).to.match(/^# {3}SITE sha256:[0-9a-f]{12}$/);
        expect(summary).to.have.lengthOf(2);
    });
});

describe("scriptLauncher", () => {
    const { home, local } = loginHome();
    const script = shippedScript("app", local(greeting));
    const stdin = scriptLauncher("app", script, "web-provision-scripts");

    it("passes shellcheck", () => {
        expect(shellcheck(stdin)).to.equal("");
    });

    it("runs the uploaded script, then removes the step's older versions and spares another step's files", () => {
        const older = shippedScript("app", "echo older\n");
        const otherStep = shippedScript("app-environment", "echo other\n");
        upload(home, [script, older, otherStep]);
        const run = runStdin(stdin, home);
        expect(run.stdout, run.stderr).to.equal("hello\nchanged: 0\n");
        expect(fs.readdirSync(path.join(home, SHIPPED_SCRIPTS_DIR)).sort()).to.deep.equal([otherStep.fileName, script.fileName].sort());
    });

    it("refuses a file that is not its script, and names the upload to replace", () => {
        const { home: tampered } = loginHome();
        upload(tampered, [{ fileName: script.fileName, content: "echo tampered\n" }]);
        const run = runStdin(stdin, tampered);
        expect(run.status).to.equal(1);
        expect(run.stdout).to.equal("");
        expect(run.stderr).to.contain("is missing or altered").and.to.contain("pulumi up --replace <URN of web-provision-scripts>");
    });

    it("shows a repair in a comment and records it once the script succeeded", () => {
        upload(home, [script]);
        const repairing = local(scriptLauncher("app", script, "web-provision-scripts", "repair 2: /etc/app.conf changed on the server"));
        expect(repairing).to.contain("# Puts back what its files were: repair 2: /etc/app.conf changed on the server\n");
        expect(runStdin(repairing, home).status).to.equal(0);
        expect(fs.readFileSync(path.join(home, "records", "app.repair"), "utf8")).to.equal(
            "repair 2: /etc/app.conf changed on the server\n",
        );
    });
});

describe("scriptSourcingLibrary", () => {
    it("runs as the whole script does, with the uploaded library in place of its own copy", () => {
        const { home, local } = loginHome();
        const stdin = scriptSourcingLibrary("greet", local(greeting), "web-provision-scripts");
        expect(stdin).to.not.contain("put_file()");
        expect(shellcheck(stdin)).to.equal("");
        upload(home, [SHIPPED_LIBRARY]);
        const run = runStdin(stdin, home);
        expect(run.stdout, run.stderr).to.equal("hello\nchanged: 0\n");
    });

    it("refuses a script that does not carry the library", () => {
        expect(() => scriptSourcingLibrary("greet", "echo hi\n", "web-provision-scripts")).to.throw(
            /does not carry the helper library exactly once/,
        );
    });
});

describe("writeShippedScripts", () => {
    it("writes a set once, into a directory named by the set, and gives it with a trailing slash", () => {
        const parent = temporaryDirectory("webstack-build");
        homes.push(parent);
        const scripts = [shippedScript("a", "echo a\n"), shippedScript("b", "echo b\n")];
        const directory = writeShippedScripts(scripts, parent);
        expect(directory).to.match(/\/[0-9a-f]{16}\/$/);
        expect(writeShippedScripts([...scripts].reverse(), parent)).to.equal(directory);
        expect(fs.readdirSync(directory).sort()).to.deep.equal(scripts.map((script) => script.fileName).sort());
        expect(fs.readFileSync(path.join(directory, scripts[0].fileName), "utf8")).to.equal("echo a\n");
        expect(writeShippedScripts([scripts[0]], parent)).to.not.equal(directory);
    });
});
