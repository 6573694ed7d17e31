import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { exportLines, renderCommand, renderScript, SCRIPT_LIBRARY, shellQuote } from "../../../provisioning/script";
import { runBash, settingsMissingForHelpers, shellcheck, temporaryDirectory } from "../../support/shell";

describe("shellQuote", () => {
    it("keeps quotes, dollars and newlines literal", () => {
        const value = `it's $HOME\n\`date\``;
        expect(runBash(`printf '%s' ${shellQuote(value)}`).stdout).to.equal(value);
    });
});

describe("exportLines", () => {
    it("writes one quoted export per setting, in order", () => {
        expect(exportLines({ A: "x", B_2: 3, C: true })).to.equal("export A='x'\nexport B_2='3'\nexport C='true'");
    });

    it("marks a setting with a dollar as literal for shellcheck", () => {
        expect(exportLines({ SITE: "try_files $uri" })).to.equal("# shellcheck disable=SC2016\nexport SITE='try_files $uri'");
    });

    it("rejects a name that is not a shell variable", () => {
        expect(() => exportLines({ "app-port": 1 })).to.throw(/"app-port" is not a valid shell variable name/);
    });
});

describe("renderScript", () => {
    const script = renderScript("greet", {
        description: "Say hello.",
        settings: { GREETING: "hello" },
        body: 'echo "$GREETING"\nmark_changed',
    });

    it("starts strict, ends by printing changed, and passes shellcheck", () => {
        expect(script.split("\n").slice(0, 2)).to.deep.equal(["#!/usr/bin/env bash", "set -euo pipefail"]);
        expect(script).to.match(/echo "changed: \$changed"\n\} <\/dev\/null\n$/);
        expect(shellcheck(script)).to.equal("");
    });

    it("runs its body with the settings and reports the changes", () => {
        expect(runBash(script).stdout).to.equal("hello\nchanged: 1\n");
    });

    it("keeps a command that reads stdin from eating the rest of the script fed to bash -s", () => {
        const reader = renderScript("read", { description: "Read stdin.", body: "cat >/dev/null\necho still-here" });
        expect(runBash(`bash -s <<'SCRIPT'\n${reader}SCRIPT`).stdout).to.equal("still-here\nchanged: 0\n");
    });
});

describe("renderCommand", () => {
    it("has the header and helpers but no changed report, and passes shellcheck", () => {
        const command = renderCommand({ description: "A command.", body: '[[ -n "${1:-}" ]] || fail "give a name"\necho "hello $1"' });
        expect(command).to.match(/^#!\/usr\/bin\/env bash\nset -euo pipefail\n/);
        expect(command).not.to.contain('echo "changed:');
        expect(shellcheck(command)).to.equal("");
        const run = runBash(command);
        expect(run.status).to.equal(1);
        expect(run.stderr).to.equal("error: give a name\n");
    });
});

describe("settingsMissingForHelpers", () => {
    const migrating = (settings: Record<string, string>) =>
        renderCommand({ description: "Migrate.", settings, body: 'run_migrations "$1"' });

    it("names the settings that a helper the script calls reads and the script leaves unset", () => {
        expect(settingsMissingForHelpers(migrating({ APP_USER: "webstack" }), SCRIPT_LIBRARY)).to.deep.equal([
            "APP_DATABASE_ENV_FILE",
            "MIGRATION_HARDENING",
            "MIGRATOR_ENV_FILE",
        ]);
    });

    it("is empty when the script sets them all, and ignores helpers it only quotes in a setting", () => {
        const settings = { APP_USER: "webstack", APP_DATABASE_ENV_FILE: "/a", MIGRATOR_ENV_FILE: "/m", MIGRATION_HARDENING: "" };
        expect(settingsMissingForHelpers(migrating(settings), SCRIPT_LIBRARY)).to.deep.equal([]);
        const quoting = renderCommand({ description: "Install.", settings: { BODY: 'run_migrations "$1"' }, body: "true" });
        expect(settingsMissingForHelpers(quoting, SCRIPT_LIBRARY)).to.deep.equal([]);
    });
});

describe("the helper library", () => {
    const directory = temporaryDirectory("webstack-library");
    const owner = `${runBash("id -un").stdout.trim()}:${runBash("id -gn").stdout.trim()}`;
    after(() => fs.rmSync(directory, { recursive: true, force: true }));

    function withLibrary(body: string): string {
        return `set -euo pipefail\n${SCRIPT_LIBRARY}\n${body}\necho "changed: $changed"`;
    }

    it("passes shellcheck on its own", () => {
        expect(shellcheck(`#!/usr/bin/env bash\n${SCRIPT_LIBRARY}`)).to.equal("");
    });

    it("put_content writes a file once, then reports no change until the content or mode differs", () => {
        const file = path.join(directory, "site.conf");
        const put = (content: string, mode: string) =>
            runBash(
                withLibrary(
                    `put_content ${shellQuote(file)} ${mode} ${owner} ${shellQuote(content)}; wrote_file && echo wrote || echo kept`,
                ),
            ).stdout;
        expect(put("a $uri\n", "644")).to.equal("wrote\nchanged: 1\n");
        expect(fs.readFileSync(file, "utf8")).to.equal("a $uri\n");
        expect(put("a $uri\n", "644")).to.equal("kept\nchanged: 0\n");
        expect(put("a $uri\n", "600")).to.equal("wrote\nchanged: 1\n");
        expect((fs.statSync(file).mode & 0o777).toString(8)).to.equal("600");
        expect(put("b\n", "600")).to.equal("wrote\nchanged: 1\n");
        expect(fs.readdirSync(directory).filter((name) => name.startsWith(".put_file"))).to.deep.equal([]);
    });

    it("package_lists_fresh counts only this plan's own fetch, and only within the minutes given", () => {
        const stamp = path.join(directory, "apt-lists-fetched");
        const fresh = (minutes: number) =>
            runBash(withLibrary(`package_lists_fresh ${minutes} && echo fresh || echo stale`), { APT_LISTS_FETCHED_STAMP: stamp }).stdout;
        expect(fresh(10)).to.equal("stale\nchanged: 0\n");
        fs.writeFileSync(stamp, "");
        expect(fresh(10)).to.equal("fresh\nchanged: 0\n");
        const twentyMinutesAgo = new Date(Date.now() - 20 * 60_000);
        fs.utimesSync(stamp, twentyMinutesAgo, twentyMinutesAgo);
        expect(fresh(10)).to.equal("stale\nchanged: 0\n");
        expect(fresh(360)).to.equal("fresh\nchanged: 0\n");
    });

    it("action_pending keeps an action due after a change until action_done, across runs that change nothing, and counts doing it late as a change", () => {
        const pending = path.join(directory, "pending");
        const run = (body: string) => runBash(withLibrary(body), { PENDING_ACTIONS_DIR: pending }).stdout;
        const failingReload = `before="$(change_count)"; mark_changed; if action_pending nginx-reload "$before"; then echo reloading; false; fi`;
        const unchangedRun = `if action_pending nginx-reload "$(change_count)"; then echo reloading; action_done nginx-reload; fi`;
        expect(run(unchangedRun)).to.equal("changed: 0\n");
        expect(run(failingReload)).to.equal("reloading\n");
        expect(run(unchangedRun)).to.equal("reloading\nchanged: 1\n");
        expect(run(unchangedRun)).to.equal("changed: 0\n");
    });

    it("logged keeps a command's output out of the step's and in the provisioning log, and shows the log's end on stderr when the command fails", () => {
        const log = path.join(directory, "provisioning.log");
        const quiet = runBash(withLibrary(`logged printf 'Unpacking nginx\\n'`), { PROVISIONING_LOG_FILE: log });
        expect(quiet).to.include({ status: 0, stdout: "changed: 0\n", stderr: "" });
        expect(fs.readFileSync(log, "utf8")).to.match(/^== \S+ printf Unpacking nginx\\n\nUnpacking nginx\n$/);

        const failing = runBash(withLibrary(`logged bash -c 'echo "E: Unable to locate package nginxx"; exit 100'`), {
            PROVISIONING_LOG_FILE: log,
        });
        expect(failing.status).to.equal(100);
        expect(failing.stdout).to.equal("");
        expect(failing.stderr).to.contain("failed with exit code 100").and.to.contain("E: Unable to locate package nginxx");
    });

    it("put_file takes its content from stdin", () => {
        const file = path.join(directory, "stdin.txt");
        const put = () => runBash(withLibrary(`put_file ${shellQuote(file)} 640 ${owner} < <(printf 'x\\n')`)).stdout;
        expect(put()).to.equal("changed: 1\n");
        expect(put()).to.equal("changed: 0\n");
    });

    it("ensure_dir creates a directory once, then reports no change", () => {
        const dir = path.join(directory, "a", "b");
        const ensure = () => runBash(withLibrary(`ensure_dir ${shellQuote(dir)} 750 ${owner}`)).stdout;
        expect(ensure()).to.equal("changed: 1\n");
        expect((fs.statSync(dir).mode & 0o777).toString(8)).to.equal("750");
        expect(ensure()).to.equal("changed: 0\n");
    });

    it("set_setting replaces a key's line (tabs or spaces, = or blank), appends a missing key, and then changes nothing", () => {
        const file = path.join(directory, "login.defs");
        fs.writeFileSync(file, '# comment\nUMASK\t\t022\nPASS_MAX_DAYS\t99999\nENABLED="false"\n');
        const set = () =>
            runBash(
                withLibrary(
                    `set_setting ${shellQuote(file)} UMASK " " 027; set_setting ${shellQuote(file)} SHA_CRYPT_MIN_ROUNDS " " 5000; set_setting ${shellQuote(file)} ENABLED = '"true"'`,
                ),
            ).stdout;
        expect(set()).to.equal("changed: 3\n");
        expect(fs.readFileSync(file, "utf8")).to.equal(
            '# comment\nUMASK 027\nPASS_MAX_DAYS\t99999\nENABLED="true"\nSHA_CRYPT_MIN_ROUNDS 5000\n',
        );
        expect(set()).to.equal("changed: 0\n");
    });

    it("ensure_mode changes the mode of the paths that exist, once, and skips the ones that do not", () => {
        const file = path.join(directory, "mode.txt");
        fs.writeFileSync(file, "x", { mode: 0o644 });
        const ensure = () =>
            runBash(withLibrary(`ensure_mode 600 ${shellQuote(file)} ${shellQuote(path.join(directory, "missing"))}`)).stdout;
        expect(ensure()).to.equal("changed: 1\n");
        expect((fs.statSync(file).mode & 0o777).toString(8)).to.equal("600");
        expect(ensure()).to.equal("changed: 0\n");
    });

    it("changed_since tells whether anything changed after a count was taken", () => {
        const out = runBash(
            withLibrary('before=$(change_count); changed_since "$before" || echo none; mark_changed; changed_since "$before" && echo some'),
        ).stdout;
        expect(out).to.equal("none\nsome\nchanged: 1\n");
    });
});
