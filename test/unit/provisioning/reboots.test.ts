import { expect } from "chai";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import {
    formatMaintenanceWindow,
    maintenanceWindowCalendar,
    parseMaintenanceWindow,
    renderRebootCommand,
    renderRebootService,
    renderRebootTimer,
} from "../../../provisioning/files/reboots";
import { REBOOT_COMMAND, REBOOT_TIMER } from "../../../provisioning/layout";
import { scriptSettings } from "../../../provisioning/script";
import { rebootsStep } from "../../../provisioning/steps/reboots";
import { relocated, runBash, shellcheck, temporaryDirectory } from "../../support/shell";

describe("parseMaintenanceWindow", () => {
    it("takes a day's three-letter name in any case and a time on a 24-hour clock", () => {
        expect(parseMaintenanceWindow("Sun 03:00")).to.deep.equal({ day: "Sun", hour: 3, minute: 0 });
        expect(parseMaintenanceWindow(" wed  7:45 ")).to.deep.equal({ day: "Wed", hour: 7, minute: 45 });
        expect(parseMaintenanceWindow("SAT 23:59")).to.deep.equal({ day: "Sat", hour: 23, minute: 59 });
    });

    it("refuses what is not a day and a time, quoting it and giving the example", () => {
        for (const text of ["", "03:00", "Sunday 03:00", "Sun 24:00", "Sun 03:60", "Sun 3", "Sun 03:00 UTC", "Xyz 03:00", "daily 03:00"]) {
            const parsed = parseMaintenanceWindow(text);
            expect(parsed, text).to.have.property("problem");
            expect((parsed as { problem: string }).problem, text).to.equal(
                `is ${JSON.stringify(text)}; expected a day and a time of day in UTC, for example "Sun 03:00" (the day one of Mon, Tue, Wed, Thu, Fri, Sat, Sun)`,
            );
        }
    });
});

describe("the maintenance window's forms", () => {
    it("reads back as written in config, with two-digit hours", () => {
        expect(formatMaintenanceWindow({ day: "Wed", hour: 7, minute: 5 })).to.equal("Wed 07:05");
    });

    it("is a calendar that systemd reads as the next such day and time in UTC", () => {
        const calendar = maintenanceWindowCalendar({ day: "Wed", hour: 7, minute: 5 });
        expect(calendar).to.equal("Wed *-*-* 07:05:00 UTC");
        const analyzed = spawnSync("systemd-analyze", ["calendar", "--iterations=2", "--base-time=2026-12-07 10:00:00 UTC", calendar], {
            encoding: "utf8",
            env: { ...process.env, TZ: "UTC" },
        });
        expect(analyzed.status, analyzed.stderr).to.equal(0);
        expect(analyzed.stdout).to.contain("Next elapse: Wed 2026-12-09 07:05:00 UTC");
        expect(analyzed.stdout).to.contain("Iter. #2: Wed 2026-12-16 07:05:00 UTC");
    });
});

describe("the reboot timer and service", () => {
    it("fires weekly in the window to the minute, and never catches up a missed window at boot", () => {
        const timer = renderRebootTimer({ day: "Sun", hour: 3, minute: 0 });
        expect(timer).to.contain("OnCalendar=Sun *-*-* 03:00:00 UTC\n");
        expect(timer).to.contain("AccuracySec=1min\n");
        expect(timer).to.contain("Persistent=false\n");
        expect(timer).to.contain("WantedBy=timers.target\n");
    });

    it("runs the reboot command once, as root", () => {
        const service = renderRebootService();
        expect(service).to.contain("Type=oneshot\n");
        expect(service).to.contain(`ExecStart=${REBOOT_COMMAND}\n`);
        expect(service).not.to.contain("User=");
    });
});

describe("webstack-reboot-if-required", () => {
    let directory: string;
    let rebootRequired: string;
    let calls: string;

    /** Runs the command with a systemctl that records its arguments and fails to start `failingUnit`. */
    const run = (failingUnit = "") => {
        const bin = path.join(directory, "bin");
        fs.mkdirSync(bin, { recursive: true });
        fs.writeFileSync(path.join(bin, "systemctl"), `#!/bin/bash\necho "$*" >> '${calls}'\n[[ "$*" != "start ${failingUnit}" ]]\n`, {
            mode: 0o755,
        });
        const script = relocated(renderRebootCommand(), { REBOOT_REQUIRED_FILE: rebootRequired });
        return runBash(script, { PATH: `${bin}:${process.env.PATH}` });
    };
    const systemctlCalls = () => (fs.existsSync(calls) ? fs.readFileSync(calls, "utf8").trim().split("\n") : []);

    beforeEach(() => {
        directory = temporaryDirectory("reboots");
        rebootRequired = path.join(directory, "reboot-required");
        calls = path.join(directory, "systemctl-calls");
    });

    afterEach(() => {
        fs.rmSync(directory, { recursive: true, force: true });
    });

    it("passes shellcheck", () => {
        expect(shellcheck(renderRebootCommand())).to.equal("");
    });

    it("does nothing when no update asked for a reboot", () => {
        const result = run();
        expect(result.status).to.equal(0);
        expect(result.stdout).to.equal("no reboot required\n");
        expect(systemctlCalls()).to.deep.equal([]);
    });

    it("backs up, ships the backup, then reboots, naming the packages that asked", () => {
        fs.writeFileSync(rebootRequired, "*** System restart required ***\n");
        fs.writeFileSync(`${rebootRequired}.pkgs`, "linux-image-6.1.0-28-amd64\nlinux-image-amd64\n");
        const result = run();
        expect(result.status, result.stderr).to.equal(0);
        expect(result.stdout).to.contain("a reboot is required by: linux-image-6.1.0-28-amd64 linux-image-amd64\n");
        expect(systemctlCalls()).to.deep.equal(["start webstack-backup.service", "start webstack-ship-backups.service", "reboot"]);
    });

    it("does not reboot when the backup or its shipping fails, and says where to look", () => {
        fs.writeFileSync(rebootRequired, "");
        const backupFailed = run("webstack-backup.service");
        expect(backupFailed.status).to.equal(1);
        expect(backupFailed.stderr).to.contain(
            "the backup before the reboot failed, so the server does not reboot: see journalctl -u webstack-backup.service",
        );
        expect(systemctlCalls()).to.deep.equal(["start webstack-backup.service"]);

        fs.rmSync(calls);
        const shippingFailed = run("webstack-ship-backups.service");
        expect(shippingFailed.status).to.equal(1);
        expect(shippingFailed.stderr).to.contain("shipping the backup before the reboot failed");
        expect(systemctlCalls()).to.deep.equal(["start webstack-backup.service", "start webstack-ship-backups.service"]);
    });
});

describe("rebootsStep", () => {
    const settingOf = (window: Parameters<typeof rebootsStep>[0], name: string) =>
        new Map(scriptSettings(rebootsStep(window).script as string)).get(name);

    it("installs the timer for the window, and says when in its description", () => {
        const step = rebootsStep({ day: "Sun", hour: 3, minute: 0 });
        expect(step.name).to.equal("reboots");
        expect(step.script as string).to.contain("in the maintenance window (Sun 03:00 UTC)");
        expect(settingOf({ day: "Sun", hour: 3, minute: 0 }, "REBOOT_TIMER_UNIT")).to.contain("OnCalendar=Sun *-*-* 03:00:00 UTC");
        expect(settingOf({ day: "Sun", hour: 3, minute: 0 }, "REBOOT_TIMER")).to.equal(REBOOT_TIMER);
    });

    it("leaves the timer out without a window, so that the step removes one an earlier window left", () => {
        expect(settingOf(undefined, "REBOOT_TIMER_UNIT")).to.equal("");
        expect(rebootsStep(undefined).script as string).to.contain("Never reboot by itself");
    });
});
