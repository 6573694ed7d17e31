import { expect } from "chai";
import { createHash } from "node:crypto";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { POSTS_APP } from "../../app/postsApp";
import { connectPatiently, migrate, MigrationError, parseMigrations, pendingMigrations } from "../../release/migrator/migrations";
import { createTestDatabase, databaseConfig, query, type TestDatabase } from "../support/mariadb";

const MIGRATIONS_DIR = POSTS_APP.migrationsDir;

const sha256 = (text: string) => createHash("sha256").update(text).digest("hex");

describe("parseMigrations", () => {
    it("orders migrations by version and checksums each file", () => {
        const migrations = parseMigrations([
            { file: "002_add_tags.sql", sql: "B" },
            { file: "001_create_posts.sql", sql: "A" },
        ]);

        expect(migrations.map((migration) => migration.file)).to.deep.equal(["001_create_posts.sql", "002_add_tags.sql"]);
        expect(migrations[0]).to.deep.include({ version: "001", checksum: sha256("A") });
    });

    it("rejects a misnamed file, naming it and the pattern", () => {
        expect(() => parseMigrations([{ file: "2_Add-Tags.sql", sql: "" }])).to.throw(
            MigrationError,
            /2_Add-Tags\.sql is misnamed; use NNN_lowercase_name\.sql/,
        );
    });

    it("rejects two files with one version, naming both", () => {
        expect(() =>
            parseMigrations([
                { file: "003_a.sql", sql: "" },
                { file: "003_b.sql", sql: "" },
            ]),
        ).to.throw(MigrationError, /003_a\.sql and 003_b\.sql share version 003/);
    });
});

describe("pendingMigrations", () => {
    const migrations = parseMigrations([
        { file: "001_one.sql", sql: "one" },
        { file: "002_two.sql", sql: "two" },
    ]);

    it("returns the migrations not applied yet, in order", () => {
        expect(pendingMigrations(migrations, []).map((migration) => migration.version)).to.deep.equal(["001", "002"]);
        expect(
            pendingMigrations(migrations, [{ version: "001", checksum: sha256("one") }]).map((migration) => migration.version),
        ).to.deep.equal(["002"]);
    });

    it("throws naming the file when an applied migration's content changed", () => {
        expect(() => pendingMigrations(migrations, [{ version: "001", checksum: sha256("edited") }])).to.throw(
            MigrationError,
            /Migration 001_one\.sql was changed after it was applied/,
        );
    });

    it("tolerates applied versions that have no file (an older release rolled back onto a newer schema)", () => {
        const applied = [
            { version: "001", checksum: sha256("one") },
            { version: "002", checksum: sha256("two") },
            { version: "003", checksum: sha256("three") },
        ];

        expect(pendingMigrations(migrations, applied)).to.deep.equal([]);
    });
});

describe("connectPatiently", () => {
    const transient = (code: string) => Object.assign(new Error(`connect ${code}`), { code });

    /** A connect that fails with each of `failures` in turn, then succeeds; and the retries reported. */
    function attempt(failures: Error[], attempts = 6) {
        const retried: string[] = [];
        let calls = 0;
        const connected = connectPatiently(
            async () => {
                calls++;
                const failure = failures.shift();
                if (failure !== undefined) {
                    throw failure;
                }
                return "connection";
            },
            { attempts, delayMs: 1, onRetry: (error, attemptNumber) => retried.push(`${attemptNumber}: ${error.message}`) },
        );
        return { connected, retried, calls: () => calls };
    }

    it("asks again while the database does not answer yet, reporting each failure", async () => {
        const run = attempt([transient("ETIMEDOUT"), transient("ECONNREFUSED")]);

        expect(await run.connected).to.equal("connection");
        expect(run.retried).to.deep.equal(["1: connect ETIMEDOUT", "2: connect ECONNREFUSED"]);
    });

    it("gives up with the last failure after the last attempt", async () => {
        const run = attempt([transient("ETIMEDOUT"), transient("ETIMEDOUT"), transient("EHOSTUNREACH")], 3);

        const failure = await run.connected.then(
            () => undefined,
            (error: Error) => error.message,
        );

        expect(failure).to.equal("connect EHOSTUNREACH");
        expect(run.calls()).to.equal(3);
    });

    it("fails at once on a failure that another attempt cannot mend, such as a refused password", async () => {
        const run = attempt([Object.assign(new Error("Access denied"), { code: "ER_ACCESS_DENIED_ERROR" })]);

        const failure = await run.connected.then(
            () => undefined,
            (error: Error) => error.message,
        );

        expect(failure).to.equal("Access denied");
        expect(run.calls()).to.equal(1);
        expect(run.retried).to.deep.equal([]);
    });
});

describe("migrate against a real MariaDB", () => {
    let database: TestDatabase;
    let directory: string;
    const config = () => databaseConfig(database);
    const history = () =>
        query<{ version: string; file: string; checksum: string }[]>(
            config(),
            "SELECT version, file, checksum FROM schema_migrations ORDER BY version",
        );

    beforeEach(async () => {
        database = await createTestDatabase();
        directory = mkdtempSync(join(tmpdir(), "webstack-migrations-"));
        cpSync(MIGRATIONS_DIR, directory, { recursive: true });
    });

    afterEach(async () => {
        rmSync(directory, { recursive: true, force: true });
        await database.drop();
    });

    it("applies the app's migrations once and records each with its checksum", async () => {
        const first = await migrate(config(), MIGRATIONS_DIR);
        const second = await migrate(config(), MIGRATIONS_DIR);

        expect(first).to.deep.equal(["001_create_posts.sql", "002_create_post_idempotency_keys.sql"]);
        expect(second).to.deep.equal([]);
        expect(await history()).to.deep.equal(
            first.map((file) => ({ version: file.slice(0, 3), file, checksum: sha256(readFileSync(join(MIGRATIONS_DIR, file), "utf8")) })),
        );
        expect(await query(config(), "SELECT COUNT(*) AS count FROM posts")).to.deep.equal([{ count: 0 }]);
    });

    it("applies each migration exactly once when two migrators run at the same time", async () => {
        // A slow second migration widens the window in which an unlocked migrator would collide.
        writeFileSync(join(directory, "900_slow.sql"), "DO SLEEP(0.5);\nCREATE TABLE slow_marker (id INT NOT NULL PRIMARY KEY);\n");

        const results = await Promise.all([migrate(config(), directory), migrate(config(), directory)]);

        expect(results.flat().sort()).to.deep.equal(["001_create_posts.sql", "002_create_post_idempotency_keys.sql", "900_slow.sql"]);
        expect(results).to.deep.include([]);
        expect((await history()).map((row) => row.version)).to.deep.equal(["001", "002", "900"]);
    });

    it("refuses to run when an applied migration was edited, naming the file", async () => {
        await migrate(config(), directory);
        writeFileSync(
            join(directory, "001_create_posts.sql"),
            "-- edited\n" + readFileSync(join(directory, "001_create_posts.sql"), "utf8"),
        );
        writeFileSync(join(directory, "900_add_tags.sql"), "CREATE TABLE tags (id INT NOT NULL PRIMARY KEY);\n");

        const failure = await migrate(config(), directory).then(
            () => undefined,
            (error: unknown) => error,
        );

        expect(failure).to.be.instanceOf(MigrationError);
        expect((failure as Error).message).to.match(/Migration 001_create_posts\.sql was changed after it was applied/);
        expect((await history()).map((row) => row.version)).to.deep.equal(["001", "002"]);
    });

    it("reports a failing migration by file and does not record it, so a fixed file runs next time", async () => {
        writeFileSync(join(directory, "900_broken.sql"), "CREATE TABLE broken (;\n");

        const failure = await migrate(config(), directory).then(
            () => undefined,
            (error: unknown) => error,
        );
        writeFileSync(join(directory, "900_broken.sql"), "CREATE TABLE broken (id INT NOT NULL PRIMARY KEY);\n");
        const retried = await migrate(config(), directory);

        expect((failure as Error).message).to.match(/^Migration 900_broken\.sql failed: .*SQL syntax/);
        expect(retried).to.deep.equal(["900_broken.sql"]);
    });
});
