import { renderCommand, scriptBody, shellQuote } from "../script";
import {
    APP_DATABASE,
    MAINTENANCE_DIR,
    REPLICA_COMMAND,
    REPLICATION_DIR,
    REPLICATION_GRANT_COMMAND,
    SHIP_BACKUPS_COMMAND,
    WRITES_COMMAND,
} from "../layout";
import { MAINTENANCE_FILES } from "./maintenance";

/**
 * Moving the site to a replacement server without losing a write. The replacement copies the app's
 * database from the old server and follows it as a MariaDB replica (GTID), through an SSH tunnel
 * that only its own key opens and that reaches the old server's loopback port 3306 alone: the
 * database is never exposed. At the cut-over the old server pauses writes (503 and Retry-After) and
 * turns read-only, the replacement replays up to the old server's last transaction and takes over,
 * and then the address moves.
 */

/** The old server's Unix account that the replacement's tunnel logs in as: port forwarding to 3306, and the grant, nothing else. */
export const REPLICATION_ACCOUNT = "webstack-replica";
/** The database user the replacement copies and follows as, from 127.0.0.1 on the old server's side of the tunnel. */
export const REPLICATION_DATABASE_USER = "webstack_replica";
/** The replacement's local end of the tunnel. */
export const REPLICA_TUNNEL_PORT = 3307;
/** How long the replacement waits for the old server's last transaction before it gives up taking over. */
export const PROMOTE_TIMEOUT_SECONDS = 60;
/** The tunnel's unit on the replacement, while it follows. */
export const REPLICA_TUNNEL_UNIT = "webstack-replica-tunnel.service";
/** The sshd drop-in that lets the replication account forward to MariaDB, since the hardening forbids forwarding to everyone else. */
export const REPLICATION_SSHD_DROP_IN = "/etc/ssh/sshd_config.d/90-webstack-replication.conf";
/** Lets the replication account run the grant as root, and nothing else. */
export const REPLICATION_SUDOERS_FILE = "/etc/sudoers.d/webstack-replication";

/**
 * The replication account's sshd settings: forwarding to the old server's loopback 3306 alone, and
 * whatever it asks to run, the grant. A Match block in a drop-in ends with the drop-in.
 */
export function renderReplicationSshd(): string {
    return [
        "# Managed by webstack: the replacement server's tunnel to this server's database (webstack-replica).",
        `Match User ${REPLICATION_ACCOUNT}`,
        "    AllowTcpForwarding local",
        "    PermitOpen 127.0.0.1:3306",
        "    PermitTTY no",
        `    ForceCommand sudo -n ${REPLICATION_GRANT_COMMAND}`,
        "",
    ].join("\n");
}

/** sudo for the replication account: the grant, as root, without a password, and no other command. */
export function renderReplicationSudoers(): string {
    return [`# Managed by webstack.`, `${REPLICATION_ACCOUNT} ALL=(root) NOPASSWD: ${REPLICATION_GRANT_COMMAND}`, ""].join("\n");
}

/**
 * The replacement's tunnel while it follows: SSH with its own key, to the address and host key that
 * `webstack-replica follow` wrote, forwarding 127.0.0.1:{@link REPLICA_TUNNEL_PORT} to the old
 * server's 127.0.0.1:3306; restarted when it drops, so replication resumes by itself.
 */
export function renderReplicaTunnelUnit(): string {
    return [
        "# Managed by webstack.",
        "[Unit]",
        "Description=webstack: the tunnel to the database of the server this one replaces",
        "After=network-online.target",
        "Wants=network-online.target",
        "",
        "[Service]",
        `EnvironmentFile=${REPLICATION_DIR}/source.env`,
        [
            "ExecStart=/usr/bin/ssh -N -T",
            `-i ${REPLICATION_DIR}/id_ed25519`,
            `-o UserKnownHostsFile=${REPLICATION_DIR}/known_hosts -o StrictHostKeyChecking=yes -o BatchMode=yes`,
            "-o ExitOnForwardFailure=yes -o ServerAliveInterval=5 -o ServerAliveCountMax=3",
            `-L 127.0.0.1:${REPLICA_TUNNEL_PORT}:127.0.0.1:3306`,
            `${REPLICATION_ACCOUNT}@\${SOURCE_ADDRESS}`,
        ].join(" "),
        "Restart=always",
        "RestartSec=2",
        "",
    ].join("\n");
}

/** The settings the replication commands share. */
const REPLICATION_SETTINGS = {
    APP_DATABASE,
    REPLICATION_ACCOUNT,
    REPLICATION_DATABASE_USER,
    REPLICATION_DIR,
    REPLICA_TUNNEL_PORT,
    REPLICA_TUNNEL_UNIT,
};

/** `webstack-replica key | allow KEY | follow ADDRESS HOST_KEY | rejoin ADDRESS HOST_KEY | status | promote GTID`: both sides' replication. */
export function renderReplicaCommand(): string {
    return renderCommand({
        description: "webstack-replica: copy and follow the database of the server this one replaces, then take over.",
        settings: {
            ...REPLICATION_SETTINGS,
            REPLICA_TUNNEL_UNIT_FILE: renderReplicaTunnelUnit(),
            PROMOTE_TIMEOUT_SECONDS,
            SHIP_BACKUPS_COMMAND,
            MAINTENANCE_DIR,
            WRITES_PAUSED_FILE: MAINTENANCE_FILES.writesPaused,
        },
        body: scriptBody("webstack-replica"),
    });
}

/** `webstack-replication-grant`: what the replacement's key runs on the old server, the password on stdin. */
export function renderReplicationGrantCommand(): string {
    return renderCommand({
        description: "webstack-replication-grant: the replication user, with the password the replacement sends on stdin.",
        settings: REPLICATION_SETTINGS,
        body: scriptBody("webstack-replication-grant"),
    });
}

/** `webstack-writes pause | resume | status`: the old server's side of the cut-over. */
export function renderWritesCommand(): string {
    return renderCommand({
        description: "webstack-writes: pause the site's writes and turn its database read-only for a cut-over, or resume them.",
        settings: { MAINTENANCE_DIR, WRITES_PAUSED_FILE: MAINTENANCE_FILES.writesPaused },
        body: scriptBody("webstack-writes"),
    });
}

/** The commands that carry certbot's directory under `etcDir` from one server to another as one base64 line of a gzipped tar. */
export function certificateCommands(etcDir = "/etc"): { read: string; install: (archive: string) => string } {
    return {
        read: `set -euo pipefail; tar -C ${etcDir} -czf - letsencrypt | base64 -w0`,
        install: (archive) => `set -euo pipefail\nbase64 -d <<'CERTIFICATES' | tar -C ${etcDir} -xzf -\n${archive.trim()}\nCERTIFICATES`,
    };
}

/** One of the move's commands, and the server it runs on as root. */
export interface MoveCommand {
    readonly on: "old" | "replacement";
    readonly command: string;
}

/**
 * The move's commands, in the order they run, each as root on the server it is named for: the
 * replacement's key allowed on the old server, the copy and the following, the old server's writes
 * paused (it prints its last transaction), the replacement caught up to that and taking writes; then
 * the address moves, and the old server's front door closes, which ends the connections still open
 * to it. Moving back is the same move the other way, with `rejoin` in place of `follow`: the server
 * the site left follows the one it moved to from its own last transaction, without a copy.
 */
export const MOVE_COMMANDS = {
    replicationKey: { on: "replacement", command: `${REPLICA_COMMAND} key` },
    allow: (key: string): MoveCommand => ({ on: "old", command: `${REPLICA_COMMAND} allow ${shellQuote(key.trim())}` }),
    /** The replacement catches up with the old server: `follow` after a copy, or `rejoin`, moving back, from its own last transaction. */
    catchUp: (how: "follow" | "rejoin", oldAddress: string, oldHostKey: string): MoveCommand => ({
        on: "replacement",
        command: `${REPLICA_COMMAND} ${how} ${shellQuote(oldAddress)} ${shellQuote(oldHostKey.trim())}`,
    }),
    pauseWrites: { on: "old", command: `${WRITES_COMMAND} pause` },
    promote: (position: string): MoveCommand => ({
        on: "replacement",
        command: `${REPLICA_COMMAND} promote ${shellQuote(position.trim())}`,
    }),
    closeOldSite: { on: "old", command: "systemctl stop nginx" },
    /** An HTTPS site's certificates (certbot's directory, renewal settings and account included) as one base64 line, read on the old server... */
    readCertificates: { on: "old", command: certificateCommands().read },
    /** ...and written on a new server before its plan's certbot step, which then keeps them: the new server cannot answer the ACME challenge before the address is its own. */
    installCertificates: (archive: string): MoveCommand => ({ on: "replacement", command: certificateCommands().install(archive) }),
} satisfies Record<string, MoveCommand | ((...values: never[]) => MoveCommand)>;
