import { expect } from "chai";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const SCRIPT = path.resolve(__dirname, "../../../.github/scripts/lift-protection.sh");

/** Stand-ins for the Pulumi and AWS CLIs: outputs from $FAKE/outputs (`name value` lines); every call logged. */
const FAKE_PULUMI = `#!/usr/bin/env bash
echo "pulumi $*" >>"$FAKE/log"
if [[ "$1 $2" == "stack output" ]]; then
  value="$(awk -v name="$3" '$1 == name { print $2 }' "$FAKE/outputs")"
  [[ -n "$value" ]] || { echo "error: current stack does not have output property '$3'" >&2; exit 255; }
  echo "$value"
fi
`;
const FAKE_AWS = `#!/usr/bin/env bash
echo "aws $*" >>"$FAKE/log"
`;

describe("lift-protection.sh, what the Destroy workflow runs before pulumi destroy", () => {
    const fake = fs.mkdtempSync(path.join(os.tmpdir(), "webstack-lift-protection-"));

    before(() => {
        fs.mkdirSync(path.join(fake, "bin"));
        fs.writeFileSync(path.join(fake, "bin", "pulumi"), FAKE_PULUMI, { mode: 0o755 });
        fs.writeFileSync(path.join(fake, "bin", "aws"), FAKE_AWS, { mode: 0o755 });
    });

    after(() => fs.rmSync(fake, { recursive: true, force: true }));

    function run(outputs: Record<string, string>, env: Record<string, string> = { STACK: "my-org/dev" }) {
        fs.writeFileSync(
            path.join(fake, "outputs"),
            Object.entries(outputs)
                .map(([name, value]) => `${name} ${value}\n`)
                .join(""),
        );
        fs.writeFileSync(path.join(fake, "log"), "");
        const result = spawnSync("bash", [SCRIPT], {
            encoding: "utf8",
            env: { PATH: `${fake}/bin:${process.env.PATH}`, FAKE: fake, ...env },
        });
        return { ...result, calls: fs.readFileSync(path.join(fake, "log"), "utf8").trim().split("\n") };
    }

    it("unprotects every resource of the stack, then lifts the single server's termination protection", () => {
        const result = run({ instanceId: "i-0123456789abcdef0", url: "https://www.example.com" });
        expect(result.status, result.stderr).to.equal(0);
        expect(result.calls).to.deep.equal([
            "pulumi state unprotect --all --yes --stack my-org/dev",
            "pulumi stack output instanceId --stack my-org/dev",
            "aws ec2 modify-instance-attribute --instance-id i-0123456789abcdef0 --no-disable-api-termination",
            "pulumi stack output databaseIdentifier --stack my-org/dev",
        ]);
    });

    it("lifts the ha database's deletion protection, and touches no instance a fleet does not have", () => {
        const result = run({ databaseIdentifier: "webstack-db-abc123" });
        expect(result.status, result.stderr).to.equal(0);
        expect(result.calls.filter((call) => call.startsWith("aws"))).to.deep.equal([
            "aws rds modify-db-instance --db-instance-identifier webstack-db-abc123 --no-deletion-protection --apply-immediately",
        ]);
        expect(result.stdout).to.contain("RDS still takes its final snapshot");
    });

    it("refuses to run without the stack's name, changing nothing", () => {
        const result = run({ instanceId: "i-0123456789abcdef0" }, {});
        expect(result.status).to.not.equal(0);
        expect(result.stderr).to.contain("set STACK to the stack to destroy");
        expect(result.calls).to.deep.equal([""]);
    });
});
