import { expect } from "chai";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { renderPreload } from "../../../provisioning/files/systemd";
import { WATCHDOG_PRELOAD } from "../../../provisioning/layout";
import { temporaryDirectory } from "../../support/shell";

/**
 * The watchdog preload, loaded for real into node as the app's unit loads it, with a stand-in
 * systemd-notify on PATH that records every ping.
 */
describe("the watchdog preload", () => {
    const directory = temporaryDirectory("webstack-watchdog");
    const preload = path.join(directory, "watchdog.cjs");
    const pings = path.join(directory, "pings");

    before(() => {
        fs.writeFileSync(preload, renderPreload(WATCHDOG_PRELOAD));
        fs.mkdirSync(path.join(directory, "bin"));
        fs.writeFileSync(path.join(directory, "bin", "systemd-notify"), `#!/usr/bin/env bash\necho "$*" >>"${pings}"\n`, { mode: 0o755 });
    });

    beforeEach(() => {
        fs.writeFileSync(pings, "");
    });

    after(() => {
        fs.rmSync(directory, { recursive: true, force: true });
    });

    /** Runs `program` in node with the preload and the environment systemd gives a unit with WatchdogSec=0.3; returns the pings it sent. */
    function pingsWhile(program: string, env: Record<string, string | undefined> = {}): string[] {
        const result = spawnSync(process.execPath, ["--require", preload, "-e", program], {
            encoding: "utf8",
            // A preload that kept the process alive would be killed here, and fail the status check.
            timeout: 5_000,
            env: { PATH: `${directory}/bin:${process.env.PATH}`, NOTIFY_SOCKET: "/run/systemd/notify", WATCHDOG_USEC: "300000", ...env },
        });
        expect(result.status, result.stderr).to.equal(0);
        return fs
            .readFileSync(pings, "utf8")
            .split("\n")
            .filter((line) => line !== "");
    }

    it("pings WATCHDOG=1 every third of WatchdogSec while the event loop runs", () => {
        const sent = pingsWhile("setTimeout(() => undefined, 750);");

        expect(sent.length).to.be.within(3, 8);
        expect(new Set(sent)).to.deep.equal(new Set(["WATCHDOG=1"]));
    });

    it("sends nothing while the event loop is blocked", () => {
        expect(pingsWhile("const end = Date.now() + 750; while (Date.now() < end) { /* a hung handler */ }")).to.deep.equal([]);
    });

    it("sends nothing outside a unit with a watchdog, or when the watchdog is meant for another process", () => {
        const idle = "setTimeout(() => undefined, 400);";
        expect(pingsWhile(idle, { WATCHDOG_USEC: undefined })).to.deep.equal([]);
        expect(pingsWhile(idle, { NOTIFY_SOCKET: undefined })).to.deep.equal([]);
        expect(pingsWhile(idle, { WATCHDOG_PID: "1" })).to.deep.equal([]);
    });

    it("never keeps a finished app alive", () => {
        expect(pingsWhile("undefined;")).to.deep.equal([]);
    });
});
