import { expect } from "chai";
import {
    certificateCommands,
    MOVE_COMMANDS,
    REPLICA_TUNNEL_PORT,
    renderReplicaCommand,
    renderReplicaTunnelUnit,
    renderReplicationGrantCommand,
    renderReplicationSshd,
    renderReplicationSudoers,
    renderWritesCommand,
} from "../../../provisioning/files/replication";
import { renderMariadbConfig } from "../../../provisioning/files/mariadb";
import { REPLICATION_DIR, REPLICATION_GRANT_COMMAND } from "../../../provisioning/layout";
import { replicationStep } from "../../../provisioning/steps/replication";
import { runBash, shellcheck } from "../../support/shell";
import { mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

describe("renderReplicationSshd", () => {
    it("lets the replication account forward to the database's loopback port alone, run the grant alone, and get no terminal", () => {
        expect(renderReplicationSshd()).to.match(
            new RegExp(
                `^Match User webstack-replica\\n    AllowTcpForwarding local\\n    PermitOpen 127\\.0\\.0\\.1:3306\\n    PermitTTY no\\n    ForceCommand sudo -n ${REPLICATION_GRANT_COMMAND}\\n$`,
                "m",
            ),
        );
    });
});

describe("renderReplicationSudoers", () => {
    it("lets the replication account run the grant as root without a password, and nothing else", () => {
        const rules = renderReplicationSudoers()
            .split("\n")
            .filter((line) => line !== "" && !line.startsWith("#"));
        expect(rules).to.deep.equal([`webstack-replica ALL=(root) NOPASSWD: ${REPLICATION_GRANT_COMMAND}`]);
    });
});

describe("renderReplicaTunnelUnit", () => {
    const unit = renderReplicaTunnelUnit();

    it("forwards the replacement's local port to the old server's loopback 3306, with the replacement's own key", () => {
        expect(unit).to.contain(`-L 127.0.0.1:${REPLICA_TUNNEL_PORT}:127.0.0.1:3306`);
        expect(unit).to.contain(`-i ${REPLICATION_DIR}/id_ed25519`);
        expect(unit).to.match(/ webstack-replica@\$\{SOURCE_ADDRESS\}\n/);
    });

    it("trusts only the old server's pinned host key and never asks", () => {
        expect(unit).to.contain(`-o UserKnownHostsFile=${REPLICATION_DIR}/known_hosts -o StrictHostKeyChecking=yes -o BatchMode=yes`);
    });

    it("comes back by itself when the tunnel drops, so that replication resumes", () => {
        expect(unit).to.contain("ExitOnForwardFailure=yes");
        expect(unit).to.match(/^Restart=always$/m);
    });
});

describe("renderMariadbConfig for a move", () => {
    it("logs the transactions a replacement replays, so that the old server can follow it back, and replays the app's database alone", () => {
        expect(renderMariadbConfig()).to.contain("log_slave_updates = ON\nreplicate_do_db = webstack\n");
    });

    it("leaves the server id to each server, since a replica skips the transactions of its own id", () => {
        expect(renderMariadbConfig()).not.to.match(/server_id/);
    });
});

describe("MOVE_COMMANDS", () => {
    it("runs the move in order: the key allowed, the copy, the old server's writes paused, the replacement promoted, the old site closed", () => {
        const key = "ssh-ed25519 AAAAC3Nza webstack-replica@new";
        expect(
            [
                MOVE_COMMANDS.replicationKey,
                MOVE_COMMANDS.allow(key),
                MOVE_COMMANDS.catchUp("follow", "172.31.5.20", "ssh-ed25519 AAAAhost"),
                MOVE_COMMANDS.pauseWrites,
                MOVE_COMMANDS.promote("0-1-42"),
                MOVE_COMMANDS.closeOldSite,
            ].map(({ on, command }) => `${on}: ${command}`),
        ).to.deep.equal([
            "replacement: /usr/local/sbin/webstack-replica key",
            "old: /usr/local/sbin/webstack-replica allow 'ssh-ed25519 AAAAC3Nza webstack-replica@new'",
            "replacement: /usr/local/sbin/webstack-replica follow '172.31.5.20' 'ssh-ed25519 AAAAhost'",
            "old: /usr/local/sbin/webstack-writes pause",
            "replacement: /usr/local/sbin/webstack-replica promote '0-1-42'",
            "old: systemctl stop nginx",
        ]);
    });

    it("moves back the same way, the server the site left rejoining from its own last transaction", () => {
        expect(MOVE_COMMANDS.catchUp("rejoin", "172.31.5.21", "ssh-ed25519 AAAAhost")).to.deep.equal({
            on: "replacement",
            command: "/usr/local/sbin/webstack-replica rejoin '172.31.5.21' 'ssh-ed25519 AAAAhost'",
        });
    });

    it("passes what the servers printed as one argument each, whatever it holds", () => {
        const { command } = MOVE_COMMANDS.promote("0-1-42'; reboot; '");
        const printed = runBash(command.replace("/usr/local/sbin/webstack-replica", "printf '%s|'"));
        expect(printed.stdout).to.equal("promote|0-1-42'; reboot; '|");
    });
});

describe("certificateCommands", () => {
    it("carries certbot's directory, links and modes included, from one server's /etc to another's as one line", () => {
        const [from, to] = [mkdtempSync(join(tmpdir(), "certs-old-")), mkdtempSync(join(tmpdir(), "certs-new-"))];
        try {
            const live = join(from, "letsencrypt/live/www.example.com");
            mkdirSync(join(from, "letsencrypt/archive/www.example.com"), { recursive: true });
            mkdirSync(live, { recursive: true });
            writeFileSync(join(from, "letsencrypt/archive/www.example.com/privkey1.pem"), "KEY\n", { mode: 0o600 });
            symlinkSync("../../archive/www.example.com/privkey1.pem", join(live, "privkey.pem"));
            const read = runBash(certificateCommands(from).read);
            expect(read.status, read.stderr).to.equal(0);
            expect(read.stdout.trim().split("\n")).to.have.length(1);
            const installed = runBash(certificateCommands(to).install(`${read.stdout}\n`));
            expect(installed.status, installed.stderr).to.equal(0);
            expect(readFileSync(join(to, "letsencrypt/live/www.example.com/privkey.pem"), "utf8")).to.equal("KEY\n");
            expect(readlinkSync(join(to, "letsencrypt/live/www.example.com/privkey.pem"))).to.equal(
                "../../archive/www.example.com/privkey1.pem",
            );
            expect(statSync(join(to, "letsencrypt/archive/www.example.com/privkey1.pem")).mode & 0o777).to.equal(0o600);
        } finally {
            rmSync(from, { recursive: true, force: true });
            rmSync(to, { recursive: true, force: true });
        }
    });

    it("fails, rather than install half, when the old server has no certificates or the archive is damaged", () => {
        const empty = mkdtempSync(join(tmpdir(), "certs-none-"));
        try {
            expect(runBash(certificateCommands(empty).read).status).to.not.equal(0);
            expect(runBash(certificateCommands(empty).install("bm90IGEgdGFy")).status).to.not.equal(0);
        } finally {
            rmSync(empty, { recursive: true, force: true });
        }
    });

    it("passes shellcheck", () => {
        const commands = certificateCommands();
        expect(shellcheck(`#!/bin/bash\n${commands.read}\n`)).to.equal("");
        expect(shellcheck(`#!/bin/bash\n${commands.install("QUJD")}\n`)).to.equal("");
    });
});

describe("the move's commands, run with bash", () => {
    const run = (script: string, args: string) => runBash(`bash -s -- ${args} <<'SCRIPT'\n${script}\nSCRIPT`);

    it("pass shellcheck", () => {
        for (const script of [
            renderReplicaCommand(),
            renderWritesCommand(),
            renderReplicationGrantCommand(),
            replicationStep().script as string,
        ]) {
            expect(shellcheck(script)).to.equal("");
        }
    });

    it("refuse an address, a host key or a position that is not one, naming what they expect, before touching anything", () => {
        expect(run(renderReplicaCommand(), "follow 172.31.5 'ssh-ed25519 AAAA'").stderr).to.contain(
            'the old server\'s address is "172.31.5"; expected its private IPv4 address',
        );
        expect(run(renderReplicaCommand(), "follow 172.31.5.20 'ssh-rsa AAAA'").stderr).to.contain('expected "ssh-ed25519 AAAA..."');
        expect(run(renderReplicaCommand(), "promote 'latest'").stderr).to.contain('the old server\'s position is "latest"');
        expect(run(renderReplicaCommand(), "allow 'not a key'").stderr).to.contain("expected what webstack-replica key printed");
        expect(run(renderReplicaCommand(), "rejoin 10.0.0.300.1 'ssh-ed25519 AAAA'").stderr).to.contain(
            "expected its private IPv4 address",
        );
    });

    it("answer an unknown or missing subcommand with their usage", () => {
        expect(run(renderReplicaCommand(), "").stderr).to.contain("usage: webstack-replica key | allow KEY");
        expect(run(renderWritesCommand(), "stop").stderr).to.contain("usage: webstack-writes pause | resume | status");
        expect(run(renderWritesCommand(), "").status).not.to.equal(0);
    });

    it("take the replication password on stdin only, and refuse anything but 64 hex digits", () => {
        const refused = runBash(
            `bash -s <<'SCRIPT'\n${renderReplicationGrantCommand().replace("IFS= read -r password || true", "password='x'")}\nSCRIPT`,
        );
        expect(refused.status).not.to.equal(0);
        expect(refused.stderr).to.contain("expected the replication password (64 hex digits) on stdin");
    });
});
