import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import { CRASH_LOOP_RESTARTS, renderActivateCommand, renderRollbackCommand } from "../../../provisioning/files/commands";
import { renderUpstream, UPSTREAM_FAIL_TIMEOUT_SECONDS } from "../../../provisioning/files/nginx";
import { renderPreload } from "../../../provisioning/files/systemd";
import { appSocketPath, UNIX_SOCKET_PRELOAD } from "../../../provisioning/layout";
import { freePort, relocated, runBash, temporaryDirectory } from "../../support/shell";

/**
 * webstack-activate and webstack-rollback, run for real with bash against tiny Node servers. systemctl
 * nginx and journalctl are stand-ins on PATH: `systemctl restart webstack-app@PORT.service` starts the current
 * release's server.js on PORT from the release's directory, with the unix-socket preload as the unit
 * loads it, `systemctl show` gives its pid, and both log what they were asked to do. Each server logs the paths it is asked for.
 */

const FAKE_SYSTEMCTL = `#!/usr/bin/env bash
echo "systemctl $*" >>"$FAKE_ROOT/log"
case "$1" in
  is-active)
    if [[ "$3" == nginx ]]; then exit 0; fi
    port="\${3#webstack-app@}"; port="\${port%.service}"
    [[ -f "$FAKE_ROOT/pids/$port" ]] && kill -0 "$(cat "$FAKE_ROOT/pids/$port")" 2>/dev/null ;;
  restart)
    port="\${2#webstack-app@}"; port="\${port%.service}"
    if [[ -f "$FAKE_ROOT/pids/$port" ]]; then kill "$(cat "$FAKE_ROOT/pids/$port")" 2>/dev/null || true; sleep 0.2; fi
    set -a; . "$FAKE_ROOT/current/release.env"; set +a
    cd "$FAKE_ROOT/current"
    PORT="$port" WEBSTACK_APP_SOCKET="$FAKE_ROOT/sockets/$port.sock" setsid node --require "$FAKE_ROOT/unix-socket.cjs" server.js </dev/null >/dev/null 2>&1 &
    echo "$!" >"$FAKE_ROOT/pids/$port" ;;
  show)
    port="\${*: -1}"; port="\${port#webstack-app@}"; port="\${port%.service}"
    if [[ "$*" == *NRestarts* ]]; then
      # Restart=always: each time it is asked, an instance found dead has been started again by systemd (and died again).
      if ! kill -0 "$(cat "$FAKE_ROOT/pids/$port" 2>/dev/null || echo 0)" 2>/dev/null; then echo again >>"$FAKE_ROOT/restarts-$port"; fi
      cat "$FAKE_ROOT/restarts-$port" 2>/dev/null | wc -l
    else
      cat "$FAKE_ROOT/pids/$port" 2>/dev/null || echo 0
    fi ;;
esac
`;
// Logs the wait that lets nginx take a restarted instance back, without spending it; other waits are real.
const FAKE_SLEEP = `#!/usr/bin/env bash
if [[ "$1" == "$UPSTREAM_FAIL_TIMEOUT_SECONDS" ]]; then echo "sleep $1" >>"$FAKE_ROOT/log"; exit 0; fi
exec /bin/sleep "$@"
`;
const FAKE_NGINX = `#!/usr/bin/env bash
{ echo "nginx $*"; grep down "$FAKE_ROOT/upstream.conf" || true; } >>"$FAKE_ROOT/log"
`;
const FAKE_JOURNALCTL = `#!/usr/bin/env bash
echo "a journal line of journalctl $*"
`;
const SERVER = `require("http").createServer((request, response) => {
    require("fs").appendFileSync(process.env.FAKE_ROOT + "/requests", request.url + "\\n");
    response.end(request.url === "/api/version" ? JSON.stringify({ release: process.env.RELEASE_ID }) : "ok");
}).listen(Number(process.env.PORT), "127.0.0.1");
`;

describe("webstack-activate and webstack-rollback", function () {
    this.timeout(60000);
    const root = temporaryDirectory("webstack-activate");
    let ports: number[] = [];

    function addRelease(id: string, options: { server?: string; healthPath?: string } = {}): void {
        fs.mkdirSync(path.join(root, "releases", id), { recursive: true });
        fs.writeFileSync(path.join(root, "releases", id, "server.js"), options.server ?? SERVER);
        fs.writeFileSync(path.join(root, "releases", id, "release.env"), `RELEASE_ID=${id}\n`);
        if (options.healthPath !== undefined) {
            fs.writeFileSync(path.join(root, "releases", id, "release.json"), JSON.stringify({ id, healthPath: options.healthPath }));
        }
    }

    function run(command: string): { status: number | null; stdout: string; stderr: string; log: string } {
        fs.writeFileSync(path.join(root, "log"), "");
        const result = runBash(command, { FAKE_ROOT: root, PATH: `${root}/bin:${process.env.PATH}` });
        return { ...result, log: fs.readFileSync(path.join(root, "log"), "utf8") };
    }

    /** A fresh connection each time (curl): the servers behind a port come and go. */
    function versionOn(port: number): string {
        return (JSON.parse(runBash(`curl -fsS http://127.0.0.1:${port}/api/version`).stdout) as { release: string }).release;
    }

    before(async () => {
        ports = [await freePort(), await freePort()];
        fs.mkdirSync(path.join(root, "bin"));
        fs.mkdirSync(path.join(root, "pids"));
        fs.mkdirSync(path.join(root, "sockets"));
        fs.writeFileSync(path.join(root, "unix-socket.cjs"), renderPreload(UNIX_SOCKET_PRELOAD));
        const settings = {
            RELEASES_DIR: `${root}/releases`,
            CURRENT_LINK: `${root}/current`,
            PREVIOUS_LINK: `${root}/previous`,
            SERVING_LINK: `${root}/serving`,
            NGINX_UPSTREAM_FILE: `${root}/upstream.conf`,
            APP_SOCKET_DIR: `${root}/sockets`,
            ACTIVATE_COMMAND: `${root}/bin/webstack-activate`,
            // Short, but long enough for a crashing release's three deaths to be seen on a busy machine:
            // each takes a Node.js start, and bash's SECONDS counts whole seconds.
            READY_TIMEOUT_SECONDS: "6",
        };
        fs.writeFileSync(path.join(root, "bin", "webstack-activate"), relocated(renderActivateCommand(ports), settings), { mode: 0o755 });
        fs.writeFileSync(path.join(root, "bin", "webstack-rollback"), relocated(renderRollbackCommand(), settings), { mode: 0o755 });
        fs.writeFileSync(path.join(root, "bin", "systemctl"), FAKE_SYSTEMCTL, { mode: 0o755 });
        fs.writeFileSync(path.join(root, "bin", "nginx"), FAKE_NGINX, { mode: 0o755 });
        fs.writeFileSync(path.join(root, "bin", "sleep"), FAKE_SLEEP, { mode: 0o755 });
        fs.writeFileSync(path.join(root, "bin", "journalctl"), FAKE_JOURNALCTL, { mode: 0o755 });
        // As the nginx step leaves it.
        fs.writeFileSync(path.join(root, "upstream.conf"), renderUpstream(ports), { mode: 0o644 });
        addRelease("r1");
        addRelease("r2", { healthPath: "/ready/now" });
        addRelease("broken", { server: "process.exit(1);\n" });
        addRelease("unhealthy", {
            server: 'require("http").createServer((request, response) => { response.statusCode = 503; response.end(\'{"status":"starting"}\\n\'); }).listen(Number(process.env.PORT), "127.0.0.1");\n',
        });
    });

    after(() => {
        for (const pidFile of fs.readdirSync(path.join(root, "pids"))) {
            runBash(`kill "$(cat ${path.join(root, "pids", pidFile)})" 2>/dev/null || true`);
        }
        fs.rmSync(root, { recursive: true, force: true });
    });

    it("starts instances that were not running one after the other, without waiting for nginx or reloading it", () => {
        expect(run("webstack-activate --check r1").status).to.equal(1);
        const result = run("webstack-activate r1");
        expect(result.status, result.stderr).to.equal(0);
        const [first, second] = ports;
        expect(result.log.split("\n").filter((line) => /restart|reload|down|nginx -t|sleep/.test(line))).to.deep.equal([
            `systemctl restart webstack-app@${first}.service`,
            `systemctl restart webstack-app@${second}.service`,
        ]);
        expect(fs.readlinkSync(path.join(root, "current"))).to.equal(path.join(root, "releases", "r1"));
        expect(fs.readlinkSync(path.join(root, "serving")), "nginx's static files").to.equal(path.join(root, "releases", "r1"));
        expect(fs.readFileSync(path.join(root, "upstream.conf"), "utf8")).not.to.contain("down");
        expect(versionOn(first)).to.equal("r1");
        expect(run("webstack-activate --check r1").status).to.equal(0);
    });

    it("restarts nothing when every instance already serves the release", () => {
        const result = run("webstack-activate r1");
        expect(result.status).to.equal(0);
        expect(result.log).not.to.contain("restart");
    });

    it("moves to a new release one running instance at a time, each time waiting until nginx sends it requests again, checking the health path its release.json names", () => {
        fs.rmSync(path.join(root, "requests"), { force: true });
        const result = run("webstack-activate r2");
        expect(result.status, result.stderr).to.equal(0);
        const [first, second] = ports;
        expect(result.log.split("\n").filter((line) => /restart|reload|down|nginx -t|sleep/.test(line))).to.deep.equal([
            `systemctl restart webstack-app@${first}.service`,
            `sleep ${UPSTREAM_FAIL_TIMEOUT_SECONDS}`,
            `systemctl restart webstack-app@${second}.service`,
            `sleep ${UPSTREAM_FAIL_TIMEOUT_SECONDS}`,
        ]);
        expect(new Set(fs.readFileSync(path.join(root, "requests"), "utf8").trim().split("\n"))).to.deep.equal(new Set(["/ready/now"]));
        expect(ports.map(versionOn)).to.deep.equal(["r2", "r2"]);
        expect(fs.readlinkSync(path.join(root, "previous"))).to.equal(path.join(root, "releases", "r1"));
    });

    it("returns to the release that was serving when the new one crashes as it starts, giving up once systemd has started it again three times: current, previous, nginx's static files and every instance as before, without an nginx reload, failing with the health check's last answer and the journal's last lines", () => {
        const result = run("webstack-activate broken");
        const [first, second] = ports;
        expect(result.status).to.equal(1);
        expect(result.stderr).to.contain(
            `webstack-app@${first}.service did not run release broken and answer /healthz with 200 on ${root}/sockets/${first}.sock: it exited as it started, ${CRASH_LOOP_RESTARTS} times in a row; the health check's last answer: no process: the instance is not running`,
        );
        expect(result.stderr).to.contain(
            "Returned to release r2: current points at it again and every instance serves it; release broken is not deployed.",
        );
        expect(result.stderr).to.contain(`a journal line of journalctl _SYSTEMD_UNIT=webstack-app@${first}.service --lines 15`);
        expect(result.log.split("\n").filter((line) => /restart|reload|down|nginx -t|sleep/.test(line))).to.deep.equal([
            `systemctl restart webstack-app@${first}.service`,
            `systemctl restart webstack-app@${first}.service`,
        ]);
        expect(fs.readlinkSync(path.join(root, "current"))).to.equal(path.join(root, "releases", "r2"));
        expect(fs.readlinkSync(path.join(root, "previous"))).to.equal(path.join(root, "releases", "r1"));
        expect(fs.readlinkSync(path.join(root, "serving")), "nginx's static files never moved").to.equal(path.join(root, "releases", "r2"));
        expect(fs.readFileSync(path.join(root, "upstream.conf"), "utf8")).not.to.contain("down");
        expect([first, second].map(versionOn)).to.deep.equal(["r2", "r2"]);
        expect(run("webstack-activate --check r2").status).to.equal(0);
    });

    it("names the health path's answer when the new release's instance answers, but not with 200", () => {
        const result = run("webstack-activate unhealthy");
        expect(result.status).to.equal(1);
        expect(result.stderr).to.contain(
            `/healthz with 200 on ${root}/sockets/${ports[0]}.sock: not within 6s; the health check's last answer: HTTP 503: {"status":"starting"}.`,
        );
        expect(ports.map(versionOn)).to.deep.equal(["r2", "r2"]);
    });

    it("rolls back to the release that was current before", () => {
        const result = run("webstack-rollback");
        expect(result.status, result.stderr).to.equal(0);
        expect(ports.map(versionOn)).to.deep.equal(["r1", "r1"]);
        expect(fs.readlinkSync(path.join(root, "current"))).to.equal(path.join(root, "releases", "r1"));
        expect(fs.readlinkSync(path.join(root, "previous"))).to.equal(path.join(root, "releases", "r2"));
    });

    it("says so when returning to the serving release fails too, and the operator's activation of a release that serves mends it", () => {
        const script = path.join(root, "releases", "r1", "server.js");
        fs.renameSync(script, `${script}.aside`);
        const result = run("webstack-activate broken");
        fs.renameSync(`${script}.aside`, script);
        expect(result.status).to.equal(1);
        expect(result.stderr).to.contain(`Returning to release r1 failed too: webstack-app@${ports[0]}.service did not serve it`);
        expect(fs.readlinkSync(path.join(root, "current"))).to.equal(path.join(root, "releases", "r1"));
        expect(run("webstack-activate r1").status).to.equal(0);
        expect(ports.map(versionOn)).to.deep.equal(["r1", "r1"]);
    });

    it("names the usage when the release id is missing or unknown", () => {
        expect(run("webstack-activate").stderr).to.contain("usage: webstack-activate [--check | --restart-all] RELEASE_ID");
        expect(run("webstack-activate nope").stderr).to.contain("release nope is not in");
    });

    it("with no release to return to (a first deploy), takes the instance that never gets ready out of the upstream while the others keep serving", () => {
        fs.rmSync(path.join(root, "current"));
        fs.rmSync(path.join(root, "previous"));
        const result = run("webstack-activate broken");
        expect(result.status).to.equal(1);
        expect(result.stderr).to.contain("It stays out of the nginx upstream; the other instances keep serving.");
        expect(fs.readFileSync(path.join(root, "upstream.conf"), "utf8")).to.contain(
            `server unix:${appSocketPath(ports[0])} down max_fails=1`,
        );
        expect(versionOn(ports[1])).to.equal("r1");
    });
});
