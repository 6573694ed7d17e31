import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { FIRST_BOOT_GRACE_SECONDS } from "../../../components/fleet/appServers";
import { releaseWaitSeconds, renderReleaseWait } from "../../../components/fleet/releaseWait";
import { runBash, shellcheck, temporaryDirectory } from "../../support/shell";

describe("releaseWaitSeconds", () => {
    it("allows each batch of new servers its whole first boot and warm-up, half the group being replaced at once", () => {
        expect(releaseWaitSeconds({ max: 4 })).to.equal(2 * (FIRST_BOOT_GRACE_SECONDS + 60));
        expect(releaseWaitSeconds({ max: 20 })).to.equal(2 * (FIRST_BOOT_GRACE_SECONDS + 60));
    });

    it("replaces one server at a time when half the group rounds down to one", () => {
        expect(releaseWaitSeconds({ max: 3 })).to.equal(3 * (FIRST_BOOT_GRACE_SECONDS + 60));
        expect(releaseWaitSeconds({ max: 2 })).to.equal(2 * (FIRST_BOOT_GRACE_SECONDS + 60));
    });
});

describe("renderReleaseWait", () => {
    const directory = temporaryDirectory("release-wait");
    after(() => fs.rmSync(directory, { recursive: true, force: true }));

    /**
     * Runs the wait against a stand-in `aws`, a shell function, that answers describe-instance-refreshes
     * with `answers` in turn, the last one from then on, and records its arguments.
     */
    const waitWith = (answers: string[], timeoutSeconds = 30, awsStatus = 0) => {
        const run = fs.mkdtempSync(path.join(directory, "run-"));
        const [calls, answered] = [path.join(run, "calls"), path.join(run, "answers")];
        fs.writeFileSync(answered, `${answers.join("\n")}\n`);
        const standIn = `aws() {
  echo "$*" >>"${calls}"
  [ ${awsStatus} -eq 0 ] || { echo "An error occurred (ExpiredToken)" >&2; return ${awsStatus}; }
  local count total
  count=$(wc -l <"${calls}")
  total=$(wc -l <"${answered}")
  sed -n "$((count < total ? count : total))p" "${answered}"
}
`;
        const script = renderReleaseWait({ group: "webstack-app-group", region: "eu-central-1", timeoutSeconds, pollSeconds: 0 });
        const result = runBash(`${standIn}${script}`);
        return { ...result, calls: fs.readFileSync(calls, "utf8").trim().split("\n") };
    };

    it("is a clean bash script", () => {
        expect(shellcheck(renderReleaseWait({ group: "g", region: "eu-central-1", timeoutSeconds: 60, pollSeconds: 15 }))).to.equal("");
    });

    it("asks Auto Scaling about the group's latest refresh until it succeeds, then lets up finish", () => {
        const result = waitWith(["Pending\tNone", "InProgress\tWaiting for instances to warm up.", "Successful\tNone"]);
        expect(result.status).to.equal(0);
        expect(result.calls).to.have.length(3);
        expect(result.calls[0]).to.equal(
            "autoscaling describe-instance-refreshes --region eu-central-1 --auto-scaling-group-name webstack-app-group --max-records 1 --query InstanceRefreshes[0].[Status, StatusReason] --output text",
        );
    });

    it("lets a new group's up finish at once: it has had no refresh, and its creation waited for its servers", () => {
        expect(waitWith(["None"]).status).to.equal(0);
    });

    it("fails up when the refresh fails, is cancelled or rolls back, with Auto Scaling's reason and the way back", () => {
        const failed = waitWith(["InProgress\tNone", "Failed\tInstance i-0abc failed its ELB health check."]);
        expect(failed.status).to.equal(1);
        expect(failed.stderr).to.include("its instance refresh ended Failed (Instance i-0abc failed its ELB health check.)");
        expect(failed.stderr).to.include("docs/fleet-rollback.md");
        for (const status of ["Cancelled", "RollbackSuccessful", "RollbackFailed"]) {
            expect(waitWith([`${status}\tNone`]).status, status).to.equal(1);
        }
    });

    it("fails up when the refresh still runs after the bound, saying how to watch it", () => {
        const result = waitWith(["InProgress\tNone"], 1);
        expect(result.status).to.equal(1);
        expect(result.stderr).to.include("not live on webstack-app-group after 1 s: its instance refresh is still InProgress");
    });

    it("fails up when Auto Scaling cannot be asked, rather than taking silence for success", () => {
        const result = waitWith(["Successful\tNone"], 30, 254);
        expect(result.status).to.equal(254);
        expect(result.stdout).to.not.include("is live");
    });
});
