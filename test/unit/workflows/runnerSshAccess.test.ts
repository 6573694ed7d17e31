import { expect } from "chai";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const SCRIPT = path.resolve(__dirname, "../../../.github/scripts/runner-ssh-access.sh");

/**
 * A stand-in for the AWS CLI that keeps a security group's ingress rules in a file (`id description
 * cidr` per line) and logs every call; the group exists once it has been looked up `appears_after`
 * times.
 */
const FAKE_AWS = `#!/usr/bin/env bash
echo "aws $*" >>"$FAKE/log"
case "$2" in
  describe-security-groups)
    polls=$(( $(cat "$FAKE/polls") + 1 )); echo "$polls" >"$FAKE/polls"
    if (( polls >= $(cat "$FAKE/appears_after") )); then echo sg-0deploy; else echo None; fi ;;
  describe-security-group-rules)
    prefix="$(sed -n "s/.*'', '\\([^']*\\)'.*/\\1/p" <<<"$*")"
    awk -v p="$prefix" 'index($2, p) == 1 { printf "%s%s", sep, $1; sep = "\\t" } END { print "" }' "$FAKE/rules" ;;
  revoke-security-group-ingress)
    for id in "\${@:6}"; do grep -v "^$id " "$FAKE/rules" >"$FAKE/rules.new" || true; mv "$FAKE/rules.new" "$FAKE/rules"; done ;;
  authorize-security-group-ingress)
    cidr="$(sed -n 's/.*CidrIp=\\([^,]*\\),Description=\\([^}]*\\)}.*/\\1/p' <<<"$*")"
    description="$(sed -n 's/.*CidrIp=\\([^,]*\\),Description=\\([^}]*\\)}.*/\\2/p' <<<"$*")"
    echo "sgr-new $description $cidr" >>"$FAKE/rules" ;;
esac
`;

describe("runner-ssh-access.sh, the deploy run's own SSH rule", () => {
    const fake = fs.mkdtempSync(path.join(os.tmpdir(), "webstack-runner-ssh-"));

    before(() => {
        fs.mkdirSync(path.join(fake, "bin"));
        fs.writeFileSync(path.join(fake, "bin", "aws"), FAKE_AWS, { mode: 0o755 });
    });

    after(() => {
        fs.rmSync(fake, { recursive: true, force: true });
    });

    function arrange(options: { rules: string[]; appearsAfter?: number; runnerAddress?: string }): void {
        fs.writeFileSync(path.join(fake, "rules"), options.rules.map((rule) => `${rule}\n`).join(""));
        fs.writeFileSync(path.join(fake, "appears_after"), String(options.appearsAfter ?? 1));
        fs.writeFileSync(path.join(fake, "polls"), "0");
        fs.writeFileSync(path.join(fake, "log"), "");
        fs.writeFileSync(path.join(fake, "bin", "curl"), `#!/usr/bin/env bash\necho '${options.runnerAddress ?? "198.51.100.20"}'\n`, {
            mode: 0o755,
        });
    }

    function run(
        action: string,
        env: Record<string, string> = {},
    ): { status: number | null; stdout: string; stderr: string; rules: string[]; log: string } {
        const result = spawnSync("bash", [SCRIPT, action], {
            encoding: "utf8",
            env: {
                ...process.env,
                PATH: `${fake}/bin:${process.env.PATH}`,
                FAKE: fake,
                STACK: "my-org/dev",
                GROUP_NAME: "webstack-deploy-access",
                RUN_ID: "42",
                POLL_SECONDS: "0",
                ...env,
            },
        });
        const rules = fs
            .readFileSync(path.join(fake, "rules"), "utf8")
            .split("\n")
            .filter((line) => line !== "");
        return {
            status: result.status,
            stdout: result.stdout,
            stderr: result.stderr,
            rules,
            log: fs.readFileSync(path.join(fake, "log"), "utf8"),
        };
    }

    it("waits for the stack's group, removes rules earlier runs left, and opens port 22 to this runner alone", () => {
        arrange({ rules: ["sgr-stale github-run-7 203.0.113.9/32", "sgr-office office 192.0.2.0/24"], appearsAfter: 3 });

        const result = run("open");

        expect(result.status, result.stderr).to.equal(0);
        expect(result.rules).to.deep.equal(["sgr-office office 192.0.2.0/24", "sgr-new github-run-42 198.51.100.20/32"]);
        expect(result.log).to.contain(
            "Name=tag:Name,Values=webstack-deploy-access Name=tag:stack,Values=dev Name=tag:project,Values=webstack",
        );
        expect(result.log.match(/describe-security-groups/g)).to.have.length(3);
        expect(result.log).to.contain("IpProtocol=tcp,FromPort=22,ToPort=22");
    });

    it("closes only this run's rule, and succeeds when the group is gone", () => {
        arrange({ rules: ["sgr-office office 192.0.2.0/24", "sgr-new github-run-42 198.51.100.20/32"] });
        const closed = run("close");
        expect(closed.status, closed.stderr).to.equal(0);
        expect(closed.rules).to.deep.equal(["sgr-office office 192.0.2.0/24"]);

        arrange({ rules: [], appearsAfter: 99 });
        const nothingToClose = run("close");
        expect(nothingToClose.status, nothingToClose.stderr).to.equal(0);
        expect(nothingToClose.log).not.to.contain("revoke");
    });

    it("gives up with a clear message when the group never appears, opening nothing", () => {
        arrange({ rules: [], appearsAfter: 99 });
        const result = run("open", { WAIT_SECONDS: "0" });
        expect(result.status).to.equal(1);
        expect(result.stderr).to.contain("no security group named webstack-deploy-access for stack dev appeared; SSH stays closed.");
        expect(result.rules).to.deep.equal([]);
    });

    it("refuses to open anything when the runner's address is not an IPv4 address", () => {
        arrange({ rules: [], runnerAddress: "<html>rate limited</html>" });
        const result = run("open");
        expect(result.status).to.equal(1);
        expect(result.stderr).to.contain("this runner's public IPv4 address is unknown");
        expect(result.log).not.to.contain("authorize");
    });
});
