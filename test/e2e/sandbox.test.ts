import { expect } from "chai";
import { existsSync, readFileSync } from "node:fs";
import * as net from "node:net";
import { join } from "node:path";
import { baseImageDir } from "../../sandbox/server/baseImage";
import { runCommand } from "../../sandbox/host/exec";
import { sandboxPaths } from "../../sandbox/host/layout";
import { NAT_TABLE, requireTestRangeFenced } from "../../sandbox/network/network";
import { listSandboxes } from "../../sandbox/host/state";
import { sshRun } from "../../sandbox/host/ssh";
import { startSandbox, type TestSandbox } from "../support/sandbox";

const NAME = "e2e-sandbox";
/** An address in the test range that no sandbox ever takes (sandboxes use 198.18.1-254.x). */
const NEVER_ALLOCATED = "198.19.0.2";

interface ConnectAttempt {
    readonly startedAt: number;
    readonly seconds: number;
    /** "connected", or the error's code. */
    readonly outcome: string;
}

/** Opens TCP connections to `address`:`port` one after another, as a client that keeps sending would, until stopped. */
function keepConnecting(address: string, port: number): { attempts: ConnectAttempt[]; stop(): Promise<void> } {
    requireTestRangeFenced();
    const attempts: ConnectAttempt[] = [];
    let stopping = false;
    const attempt = () =>
        new Promise<void>((resolve) => {
            const startedAt = Date.now();
            const socket = net.connect({ host: address, port, timeout: 3000 });
            const done = (outcome: string) => {
                attempts.push({ startedAt, seconds: (Date.now() - startedAt) / 1000, outcome });
                socket.destroy();
                setTimeout(resolve, 50);
            };
            socket.once("connect", () => done("connected"));
            socket.once("timeout", () => done("ETIMEDOUT"));
            socket.once("error", (error: NodeJS.ErrnoException) => done(error.code ?? error.message));
        });
    const loop = (async () => {
        while (!stopping) await attempt();
    })();
    return {
        attempts,
        async stop() {
            stopping = true;
            await loop;
        },
    };
}

describe("the sandbox server", function () {
    // Building the base image the first time takes a minute or two; a cached boot takes seconds.
    this.timeout(600_000);
    let server: TestSandbox;

    before(async () => {
        const startedAt = Date.now();
        server = await startSandbox(NAME, { image: "bare" });
        console.log(`      sandbox up in ${((Date.now() - startedAt) / 1000).toFixed(1)} s at ${server.address}`);
    });

    after(async () => {
        await server?.destroy();
    });

    it("lets admin log in over SSH with the sandbox's key and use sudo without a password", async () => {
        const result = await sshRun(server.ssh, "id -un && sudo -n id -u");
        expect(result.stdout).to.equal("admin\n0\n");
    });

    it("runs commands as root and reports systemd as running", async () => {
        expect(await server.exec("id -u")).to.equal("0\n");
        expect((await server.exec("systemctl is-system-running || true")).trim()).to.be.oneOf(["running", "degraded"]);
    });

    it("has a machine id and SSH host keys of its own, not the base image's", async () => {
        expect((await server.exec("cat /etc/machine-id")).trim()).to.match(/^[0-9a-f]{32}$/);
        expect(existsSync(join(baseImageDir(), "etc/ssh/ssh_host_ed25519_key"))).to.equal(false);
        expect(existsSync(join(baseImageDir(), "etc/ssh/sshd_config")), "the base image is where the test looks").to.equal(true);
    });

    it("reaches Debian's mirror through the host's NAT (apt-get update works)", async () => {
        const output = await server.exec("apt-get update 2>&1");
        expect(output).to.match(/deb\.debian\.org/);
        expect(output).to.not.match(/^(Err|W: Failed)/m);
    });

    it("answers www.<domain> and <domain> with the server's address from the sandbox's DNS", async () => {
        expect(await server.lookup(`www.${server.domain}`)).to.deep.equal([server.address]);
        expect(await server.lookup(server.domain)).to.deep.equal([server.address]);
    });

    it("refuses outside names (no recursion) and knows no other name in the domain", async () => {
        const error = await server.lookup("example.com").catch((caught: NodeJS.ErrnoException) => caught);
        expect(error).to.have.property("code", "EREFUSED");
        const other = await server.lookup(`mail.${server.domain}`).catch((caught: NodeJS.ErrnoException) => caught);
        expect(other).to.have.property("code", "ENOTFOUND");
    });

    it("keeps its changes across a guest reboot", async () => {
        await server.exec("echo kept > /root/reboot-marker && (sleep 1; systemctl reboot) >/dev/null 2>&1 &");
        await new Promise((resolve) => setTimeout(resolve, 3000));
        let marker = "";
        for (let attempt = 0; attempt < 60 && marker === ""; attempt++) {
            marker = await server.exec("systemctl is-system-running --wait >/dev/null || true; cat /root/reboot-marker").catch(() => "");
            if (marker === "") {
                await new Promise((resolve) => setTimeout(resolve, 1000));
            }
        }
        expect(marker).to.equal("kept\n");
    });

    it("gets no route to a test host that does not exist, at once, from inside its namespace too", async () => {
        const output = await server.exec(`timeout 5 bash -c 'exec 3<>/dev/tcp/${NEVER_ALLOCATED}/80' 2>&1 || true`);
        expect(output).to.contain("No route to host");
    });

    describe("teardown", () => {
        let client: ReturnType<typeof keepConnecting>;
        let destroyedAt = 0;

        before(async () => {
            client = keepConnecting(server.address, 22);
            await new Promise((resolve) => setTimeout(resolve, 1000));
            await server.destroy();
            destroyedAt = Date.now();
            await new Promise((resolve) => setTimeout(resolve, 3000));
            await client.stop();
        });

        it("refuses, on this machine and at once, a client that still sends to the destroyed server", () => {
            const before = client.attempts.filter((attempt) => attempt.startedAt + attempt.seconds * 1000 < destroyedAt - 1000);
            const after = client.attempts.filter((attempt) => attempt.startedAt >= destroyedAt);
            console.log(`      ${before.length} connections while the server ran, ${after.length} attempts after destroy`);
            expect(before.map((attempt) => attempt.outcome)).to.include("connected");
            expect(after.length).to.be.greaterThan(10);
            expect(new Set(after.map((attempt) => attempt.outcome))).to.deep.equal(new Set(["EHOSTUNREACH"]));
            expect(Math.max(...after.map((attempt) => attempt.seconds))).to.be.below(1);
        });

        it("routes the destroyed server's address nowhere: ip route get names no gateway", async () => {
            const route = await runCommand("ip", ["route", "get", server.address], { allowFailure: true });
            expect(`${route.stdout}${route.stderr}`).to.contain("No route to host");
            expect(route.stdout).to.not.contain(" via ");
        });

        it("leaves no network namespace, veth, mount, cgroup or state behind", async () => {
            const paths = sandboxPaths(NAME);
            expect((await runCommand("ip", ["netns", "list"])).stdout).to.not.contain(server.sandbox.network.netns);
            expect((await runCommand("ip", ["link", "show"])).stdout).to.not.contain(`${server.sandbox.network.hostInterface}:`);
            expect(readFileSync("/proc/mounts", "utf8")).to.not.contain(paths.data);
            for (const path of [paths.runtime, paths.data, ...paths.cgroups]) {
                expect(existsSync(path), path).to.equal(false);
            }
        });

        it("removes the NAT table once no sandbox remains", async () => {
            // Another sandbox on this host (a developer's "default") still needs it.
            const stillNeeded = listSandboxes().length > 0;
            const tables = (await runCommand("nft", ["list", "tables"])).stdout;
            expect(tables.includes(`table ip ${NAT_TABLE}`)).to.equal(stillNeeded);
        });

        it("can be destroyed again without error", async () => {
            await server.destroy();
        });
    });
});
