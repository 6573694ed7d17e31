/**
 * A local MariaDB server for the app's tests, and a throwaway database + user per test suite.
 *
 * The host has no systemd, so when the server does not answer it is started directly (and, as root,
 * installed first). Administration goes through the `mariadb` client as the OS user, which MariaDB
 * authenticates over the unix socket (root needs no password there).
 */
import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, chownSync } from "node:fs";
import { userInfo } from "node:os";
import { promisify } from "node:util";
import mysql from "mysql2/promise";
import { DEFAULT_POOL, type DatabaseSettings } from "../../release/databaseSettings";
import { pollUntil } from "../../sandbox/host/exec";

const run = promisify(execFile);

/** Where Debian's MariaDB listens; the app's DB_SOCKET default. */
export const MARIADB_SOCKET = "/run/mysqld/mysqld.sock";
const MARIADBD = "/usr/sbin/mariadbd";
const STARTUP_TIMEOUT_MS = 30_000;

/** A database and a user that owns it, both dropped by {@link TestDatabase.drop}. */
export interface TestDatabase {
    readonly socketPath: string;
    readonly name: string;
    readonly user: string;
    readonly password: string;
    drop(): Promise<void>;
}

/** Runs SQL as the MariaDB administrator and returns its tab-separated output. */
export async function adminSql(sql: string): Promise<string> {
    const { stdout } = await run("mariadb", ["--batch", "--skip-column-names", "-e", sql]);
    return stdout;
}

async function answers(): Promise<boolean> {
    try {
        await adminSql("select 1");
        return true;
    } catch {
        return false;
    }
}

async function installServer(): Promise<void> {
    if (existsSync(MARIADBD)) {
        return;
    }
    if (userInfo().uid !== 0) {
        throw new Error(`MariaDB is not installed (${MARIADBD} is missing); run "apt-get install -y mariadb-server" as root.`);
    }
    await run("apt-get", ["install", "-y", "-q", "--no-install-recommends", "mariadb-server"], {
        env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    });
}

async function startServer(): Promise<void> {
    if (userInfo().uid !== 0) {
        throw new Error(
            `MariaDB does not answer on ${MARIADB_SOCKET}; start it (as root: start-stop-daemon --start --background --exec ${MARIADBD} -- --user=mysql).`,
        );
    }
    const { stdout: mysqlIds } = await run("id", ["-u", "mysql"]);
    const { stdout: mysqlGroup } = await run("id", ["-g", "mysql"]);
    mkdirSync("/run/mysqld", { recursive: true });
    chownSync("/run/mysqld", Number(mysqlIds), Number(mysqlGroup));
    await run("start-stop-daemon", ["--start", "--oknodo", "--background", "--exec", MARIADBD, "--", "--user=mysql"]);
}

async function waitUntilAnswering(): Promise<void> {
    if (
        (await pollUntil(async () => ((await answers()) ? true : undefined), { timeoutMs: STARTUP_TIMEOUT_MS, intervalMs: 250 })) ===
        undefined
    ) {
        throw new Error(`MariaDB did not answer on ${MARIADB_SOCKET} within ${STARTUP_TIMEOUT_MS / 1000} s after starting ${MARIADBD}.`);
    }
}

let serverReady: Promise<void> | undefined;

/** Makes sure a MariaDB server answers on {@link MARIADB_SOCKET}, installing and starting it when needed. */
export function ensureMariaDb(): Promise<void> {
    serverReady ??= (async () => {
        if (await answers()) {
            return;
        }
        await installServer();
        await startServer();
        await waitUntilAnswering();
    })();
    return serverReady;
}

/** Creates an empty database and a user with every privilege on it (and nothing else). */
export async function createTestDatabase(): Promise<TestDatabase> {
    await ensureMariaDb();
    const suffix = randomBytes(6).toString("hex");
    const name = `webstack_test_${suffix}`;
    const user = `webstack_${suffix}`;
    const password = randomBytes(18).toString("base64url");
    await adminSql(
        `CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci; ` +
            `CREATE USER '${user}'@'localhost' IDENTIFIED BY '${password}'; ` +
            `GRANT ALL PRIVILEGES ON \`${name}\`.* TO '${user}'@'localhost';`,
    );
    return {
        socketPath: MARIADB_SOCKET,
        name,
        user,
        password,
        drop: () => adminSql(`DROP DATABASE IF EXISTS \`${name}\`; DROP USER IF EXISTS '${user}'@'localhost';`).then(() => undefined),
    };
}

/** The settings that reach a test database through its socket (or another socket path, such as a proxy's). */
export function databaseConfig(database: TestDatabase, socketPath = database.socketPath): DatabaseSettings {
    return { endpoint: { socketPath }, name: database.name, user: database.user, password: database.password, pool: DEFAULT_POOL };
}

/** Runs statements as the test database's user (for arranging and inspecting state). */
export async function query<T = unknown>(database: DatabaseSettings, sql: string, values: unknown[] = []): Promise<T> {
    const connection = await mysql.createConnection({
        ...database.endpoint,
        database: database.name,
        user: database.user,
        password: database.password,
    });
    try {
        return (await connection.query(sql, values))[0] as T;
    } finally {
        await connection.end();
    }
}
