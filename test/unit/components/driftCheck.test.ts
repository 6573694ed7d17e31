import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { DRIFT_CHECK_SCRIPT, parseDriftReport, repairFor } from "../../../components/driftCheck";
import { STEP_RECORDS_DIR } from "../../../provisioning/layout";
import { renderScript } from "../../../provisioning/script";
import { runBash, shellcheck, temporaryDirectory } from "../../support/shell";

describe("parseDriftReport", () => {
    it("reads each step's changed files and last repair, empty when there are none", () => {
        const report = parseDriftReport(
            "nginx\t/etc/nginx/site, /etc/nginx/upstream\t\nbase\t\trepair 1: /etc/motd changed on the server\n",
        );
        expect(Object.entries(report)).to.deep.equal([
            ["nginx", { changedFiles: "/etc/nginx/site, /etc/nginx/upstream", lastRepair: "" }],
            ["base", { changedFiles: "", lastRepair: "repair 1: /etc/motd changed on the server" }],
        ]);
    });
});

describe("repairFor", () => {
    it("asks no repair of a step the server has no record of, nor of one whose files are as it put them", () => {
        expect(repairFor(undefined)).to.equal("");
        expect(repairFor({ changedFiles: "", lastRepair: "" })).to.equal("");
    });

    it("keeps a repaired step's last repair while nothing changed, so that the next preview after the repair is clean", () => {
        expect(repairFor({ changedFiles: "", lastRepair: "repair 3: /etc/a changed on the server" })).to.equal(
            "repair 3: /etc/a changed on the server",
        );
    });

    it("numbers a new repair after the last one and names the changed files, so that the same edit made again still shows", () => {
        expect(repairFor({ changedFiles: "/etc/a", lastRepair: "" })).to.equal("repair 1: /etc/a changed on the server");
        expect(repairFor({ changedFiles: "/etc/a", lastRepair: "repair 1: /etc/a changed on the server" })).to.equal(
            "repair 2: /etc/a changed on the server",
        );
    });
});

describe("the drift check on a server", () => {
    const root = temporaryDirectory("webstack-drift");
    const records = path.join(root, "records");
    const local = (text: string) => text.split(STEP_RECORDS_DIR).join(records);
    const file = (name: string) => path.join(root, name);
    const putting = (step: string, files: readonly string[]) =>
        local(
            renderScript(step, {
                description: `Put ${files.join(", ")}.`,
                body: files.map((name) => `put_content '${file(name)}' 644 root:root 'content of ${name}'`).join("\n"),
            }),
        );

    after(() => fs.rmSync(root, { recursive: true, force: true }));

    it("passes shellcheck", () => {
        expect(shellcheck(DRIFT_CHECK_SCRIPT)).to.equal("");
    });

    it("reports nothing for steps whose files are as they put them, and each changed or removed file of the others", () => {
        expect(runBash(putting("site", ["a.conf", "b.conf"])).status).to.equal(0);
        expect(runBash(putting("base", ["motd"])).status).to.equal(0);
        expect(runBash(putting("quiet", [])).status).to.equal(0);
        expect(runBash(local(DRIFT_CHECK_SCRIPT)).stdout).to.equal("base\t\t\nquiet\t\t\nsite\t\t\n");

        fs.appendFileSync(file("a.conf"), "# edited by hand\n");
        fs.rmSync(file("b.conf"));
        fs.writeFileSync(path.join(records, "base.repair"), "repair 1: /etc/motd changed on the server\n");
        const check = runBash(local(DRIFT_CHECK_SCRIPT));
        expect(check.status, check.stderr).to.equal(0);
        expect(parseDriftReport(check.stdout)).to.deep.equal({
            base: { changedFiles: "", lastRepair: "repair 1: /etc/motd changed on the server" },
            quiet: { changedFiles: "", lastRepair: "" },
            site: { changedFiles: `${file("a.conf")}, ${file("b.conf")}`, lastRepair: "" },
        });
    });

    it("finds the files as the step put them again after it ran once more", () => {
        expect(runBash(putting("site", ["a.conf", "b.conf"])).stdout).to.equal("changed: 2\n");
        expect(parseDriftReport(runBash(local(DRIFT_CHECK_SCRIPT)).stdout).site).to.deep.equal({ changedFiles: "", lastRepair: "" });
    });

    it("reports nothing on a server no step has recorded anything on", () => {
        const empty = runBash(DRIFT_CHECK_SCRIPT.split(STEP_RECORDS_DIR).join(path.join(root, "none")));
        expect(empty).to.include({ status: 0, stdout: "" });
    });
});
