import { expect } from "chai";
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { buildRelease, releaseId, releaseTarball, checkedAppSource, type BuiltRelease } from "../../release/build";
import { MINIMAL_APP } from "../../examples/minimal-app";
import { createTestDatabase, databaseConfig, query, type TestDatabase } from "../support/mariadb";

const run = promisify(execFile);

/** A port nothing listens on right now. */
function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = createServer().listen(0, "127.0.0.1", () => {
            const address = server.address();
            server.close(() => (typeof address === "object" && address !== null ? resolve(address.port) : reject(new Error("no port"))));
        });
    });
}

function exitOf(child: ChildProcess): Promise<number | null> {
    return new Promise((resolve) => child.on("exit", (code) => resolve(code)));
}

async function waitForHealthy(url: string, child: ChildProcess): Promise<void> {
    let exited = false;
    child.on("exit", () => (exited = true));
    for (;;) {
        if (exited) {
            throw new Error("the bundled server exited before it answered /healthz");
        }
        if (
            (await fetch(`${url}/healthz`).then(
                (response) => response.ok,
                () => false,
            )) === true
        ) {
            return;
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
    }
}

/** The environment a release's programs get on the server: the database settings, without npm or the repository's PATH. */
function releaseEnvironment(database: TestDatabase, extra: Record<string, string>): Record<string, string> {
    return {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        DB_SOCKET: database.socketPath,
        DB_NAME: database.name,
        DB_USER: database.user,
        DB_PASSWORD: database.password,
        ...extra,
    };
}

describe("releaseId", () => {
    const files = [
        { path: "server.js", content: Buffer.from("console.log(1)") },
        { path: "public/index.html", content: Buffer.from("<p>") },
    ];

    it("is 12 hex characters that do not depend on the order files are listed in", () => {
        expect(releaseId(files)).to.match(/^[0-9a-f]{12}$/);
        expect(releaseId([...files].reverse())).to.equal(releaseId(files));
    });

    it("changes when any file's content or path changes", () => {
        const changedContent = [files[0], { ...files[1], content: Buffer.from("<p>!") }];
        const changedPath = [files[0], { ...files[1], path: "public/home.html" }];

        expect(releaseId(changedContent)).not.to.equal(releaseId(files));
        expect(releaseId(changedPath)).not.to.equal(releaseId(files));
    });
});

describe("releaseTarball", () => {
    const files = [
        { path: "server.js", content: Buffer.from("console.log(1)\n") },
        { path: "public/css/app.css", content: Buffer.from("p {}\n") },
        { path: "public/index.html", content: Buffer.from("<p>\n") },
    ];
    const listing = async (tarball: Buffer): Promise<string[]> => {
        const directory = mkdtempSync(join(tmpdir(), "webstack-tarball-"));
        try {
            writeFileSync(join(directory, "release.tar.gz"), tarball);
            const { stdout } = await run("tar", ["-tvz", "--numeric-owner", "-f", join(directory, "release.tar.gz")], {
                env: { TZ: "UTC" },
            });
            return stdout.trim().split("\n");
        } finally {
            rmSync(directory, { recursive: true, force: true });
        }
    };

    it("holds every directory (755) and file (644) in path order, owned by 0 at time 0, as GNU tar reads it", async () => {
        expect(await listing(releaseTarball(files))).to.deep.equal([
            "drwxr-xr-x 0/0               0 1970-01-01 00:00 public/",
            "drwxr-xr-x 0/0               0 1970-01-01 00:00 public/css/",
            "-rw-r--r-- 0/0               5 1970-01-01 00:00 public/css/app.css",
            "-rw-r--r-- 0/0               4 1970-01-01 00:00 public/index.html",
            "-rw-r--r-- 0/0              15 1970-01-01 00:00 server.js",
        ]);
    });

    it("gives the same bytes whatever order the files come in, with no time and Unix as the OS in the gzip header", () => {
        const tarball = releaseTarball(files);
        expect(releaseTarball([...files].reverse()).equals(tarball)).to.equal(true);
        expect(tarball.readUInt32LE(4), "gzip mtime").to.equal(0);
        expect(tarball[9], "gzip OS byte").to.equal(3);
    });

    it("refuses a path a tar header cannot hold, naming it", () => {
        const path = `public/${"x".repeat(120)}.html`;
        expect(() => releaseTarball([{ path, content: Buffer.from("") }])).to.throw(
            `the release file ${path} has a path too long for a tar header`,
        );
    });
});

describe("buildRelease", function () {
    // Two esbuild bundles plus a bundled server starting up; well under this on the reference machine.
    this.timeout(60_000);

    let outDirs: string[];
    let release: BuiltRelease;
    let unpacked: string;
    let database: TestDatabase;

    before(async () => {
        outDirs = [mkdtempSync(join(tmpdir(), "webstack-build-a-")), mkdtempSync(join(tmpdir(), "webstack-build-b-"))];
        release = await buildRelease({ outDir: outDirs[0] });
        // Unpacked outside the repository, where no node_modules could stand in for a missing bundle dependency.
        unpacked = mkdtempSync(join(tmpdir(), "webstack-unpacked-"));
        await run("tar", ["-xzf", release.artifactPath, "-C", unpacked]);
        database = await createTestDatabase();
    });

    after(async () => {
        [...(outDirs ?? []), unpacked].filter(Boolean).forEach((directory) => rmSync(directory, { recursive: true, force: true }));
        await database?.drop();
    });

    const serverEnv = (extra: Record<string, string> = {}) => releaseEnvironment(database, extra);

    it("names the artifact and directory after the id", () => {
        expect(release.id).to.match(/^[0-9a-f]{12}$/);
        expect(release.artifactPath).to.equal(join(outDirs[0], `webstack-release-${release.id}.tar.gz`));
        expect(release.directory).to.equal(join(outDirs[0], "release", release.id));
    });

    it("gives the same id and byte-identical tarball when built again from the same source", async () => {
        const again = await buildRelease({ outDir: outDirs[1] });

        expect(again.id).to.equal(release.id);
        expect(readFileSync(again.artifactPath).equals(readFileSync(release.artifactPath))).to.equal(true);
    });

    it("gives the same id and bytes with no tar or gzip on PATH, in another checkout, under another umask, timezone and locale", async () => {
        // A second checkout: the same tree at another path, its node_modules hard-linked rather than installed again.
        const repository = resolve(__dirname, "..", "..");
        const checkout = mkdtempSync(join(tmpdir(), "webstack-checkout-"));
        outDirs.push(checkout);
        for (const entry of readdirSync(repository).filter((name) => ![".git", "build", "node_modules"].includes(name))) {
            cpSync(join(repository, entry), join(checkout, entry), { recursive: true });
        }
        await run("cp", ["-al", join(repository, "node_modules"), join(checkout, "node_modules")]);
        const emptyPath = join(checkout, "empty-path");
        mkdirSync(emptyPath);
        const outDir = join(checkout, "out");
        const script = `process.umask(0o077); require("./release/build").buildRelease({ outDir: ${JSON.stringify(outDir)} }).then((built) => console.log(built.artifactPath))`;
        const { stdout } = await run(process.execPath, [join(checkout, "node_modules/tsx/dist/cli.mjs"), "-e", script], {
            cwd: checkout,
            env: { PATH: emptyPath, HOME: checkout, TZ: "Pacific/Kiritimati", LC_ALL: "C", LANG: "tr_TR.UTF-8" },
        });
        const elsewhere = stdout.trim();

        expect(elsewhere).to.equal(join(outDir, `webstack-release-${release.id}.tar.gz`));
        expect(readFileSync(elsewhere).equals(readFileSync(release.artifactPath))).to.equal(true);
    });

    it("gives a stamped build of the same source its own id, with the stamp packed in", async () => {
        const stamped = await buildRelease({ outDir: outDirs[1], stamp: "second deploy" });

        expect(stamped.id).to.not.equal(release.id);
        expect(readFileSync(join(stamped.directory, "stamp"), "utf8")).to.equal("second deploy\n");
    });

    it("packs server.js, migrate.js, release.json, public/ and migrations/ at the top level", async () => {
        const { stdout } = await run("tar", ["-tzf", release.artifactPath]);

        expect(stdout.trim().split("\n")).to.deep.equal([
            "migrate.js",
            "migrations/",
            "migrations/001_create_posts.sql",
            "migrations/002_create_post_idempotency_keys.sql",
            "public/",
            "public/app.css",
            "public/app.js",
            "public/favicon.svg",
            "public/index.html",
            "release.json",
            "server.js",
        ]);
        expect(JSON.parse(readFileSync(join(unpacked, "release.json"), "utf8"))).to.deep.equal({ id: release.id, healthPath: "/healthz" });
    });

    it("runs `node migrate.js` against a database without npm, and again as a no-op", async () => {
        const first = await run("node", ["migrate.js"], { cwd: unpacked, env: serverEnv() });
        const second = await run("node", ["migrate.js"], { cwd: unpacked, env: serverEnv() });

        expect(JSON.parse(first.stdout)).to.deep.include({ applied: ["001_create_posts.sql", "002_create_post_idempotency_keys.sql"] });
        expect(JSON.parse(second.stdout)).to.deep.include({ applied: [] });
        expect(first.stdout + second.stdout).not.to.contain(database.password);
        expect(await query(databaseConfig(database), "SELECT version FROM schema_migrations ORDER BY version")).to.deep.equal([
            { version: "001" },
            { version: "002" },
        ]);
    });

    it("serves as `node server.js`, names its release, and exits 0 on SIGTERM", async () => {
        const port = await freePort();
        const server = spawn("node", ["server.js"], {
            cwd: unpacked,
            env: serverEnv({ PORT: String(port) }),
            stdio: ["ignore", "pipe", "pipe"],
        });
        let logs = "";
        server.stdout?.on("data", (chunk: Buffer) => (logs += chunk.toString()));
        const exited = exitOf(server);
        const url = `http://127.0.0.1:${port}`;

        await waitForHealthy(url, server);
        const version = await fetch(`${url}/api/version`);
        const ready = await fetch(`${url}/readyz`);
        server.kill("SIGTERM");

        expect(await version.json()).to.deep.equal({ release: release.id });
        expect(version.headers.get("x-release")).to.equal(release.id);
        expect(ready.status).to.equal(200);
        expect(await exited).to.equal(0);
        expect(
            logs
                .trim()
                .split("\n")
                .every((line) => typeof JSON.parse(line) === "object"),
            "every log line is JSON",
        ).to.equal(true);
        expect(logs).not.to.contain(database.password);
    });

    it("exits non-zero naming the variable when the configuration is invalid", async () => {
        const failure = await run("node", ["server.js"], { cwd: unpacked, env: serverEnv({ PORT: "http" }) }).then(
            () => undefined,
            (error: { code: number; stderr: string }) => error,
        );

        expect(failure?.code).to.equal(1);
        expect(failure?.stderr).to.contain('PORT is "http"; expected a whole number from 1 to 65535, for example 3000.');
    });
});

describe("checkedAppSource", () => {
    it("accepts the minimal example app", () => {
        expect(() => checkedAppSource(MINIMAL_APP)).not.to.throw();
    });

    it("names the field and the fix for a missing entry or directory, or a health path that is no path", () => {
        expect(() => checkedAppSource({ ...MINIMAL_APP, entry: "/nowhere/server.js" })).to.throw(
            /app\.entry \/nowhere\/server\.js does not exist; give the app's entry file/,
        );
        expect(() => checkedAppSource({ ...MINIMAL_APP, migrationsDir: "/nowhere" })).to.throw(
            /app\.migrationsDir \/nowhere does not exist; give an existing directory, or leave app\.migrationsDir out/,
        );
        expect(() => checkedAppSource({ ...MINIMAL_APP, healthPath: "health" })).to.throw(
            /app\.healthPath "health" must be a path starting with \//,
        );
    });
});

describe("buildRelease of another app (examples/minimal-app)", function () {
    this.timeout(60_000);

    let outDir: string;
    let unpacked: string;
    let database: TestDatabase;
    let release: BuiltRelease;

    before(async () => {
        outDir = mkdtempSync(join(tmpdir(), "webstack-build-minimal-"));
        release = await buildRelease({ app: MINIMAL_APP, outDir });
        unpacked = mkdtempSync(join(tmpdir(), "webstack-unpacked-minimal-"));
        await run("tar", ["-xzf", release.artifactPath, "-C", unpacked]);
        database = await createTestDatabase();
    });

    after(async () => {
        [outDir, unpacked].filter(Boolean).forEach((directory) => rmSync(directory, { recursive: true, force: true }));
        await database?.drop();
    });

    const env = (extra: Record<string, string> = {}) => releaseEnvironment(database, extra);

    it("packs the app's own server, static files and migrations with the platform's migrator, and names its health path", async () => {
        const { stdout } = await run("tar", ["-tzf", release.artifactPath]);
        expect(stdout.trim().split("\n")).to.deep.equal([
            "migrate.js",
            "migrations/",
            "migrations/001_create_visits.sql",
            "public/",
            "public/index.html",
            "public/robots.txt",
            "release.json",
            "server.js",
        ]);
        expect(release.healthPath).to.equal("/health");
        expect(JSON.parse(readFileSync(join(unpacked, "release.json"), "utf8"))).to.deep.equal({ id: release.id, healthPath: "/health" });
    });

    it("migrates with the platform's migrator, then serves its health path and counts visits only with its token", async () => {
        const migrated = await run("node", ["migrate.js"], { cwd: unpacked, env: env() });
        expect(JSON.parse(migrated.stdout)).to.deep.include({ applied: ["001_create_visits.sql"] });

        const port = await freePort();
        const server = spawn("node", ["server.js"], {
            cwd: unpacked,
            env: env({ PORT: String(port), API_TOKEN: "minimal-t0ken" }),
            stdio: "ignore",
        });
        const exited = exitOf(server);
        const url = `http://127.0.0.1:${port}`;
        for (
            let attempt = 0;
            (await fetch(`${url}/health`).then(
                (response) => response.ok,
                () => false,
            )) !== true;
            attempt++
        ) {
            expect(attempt, "the minimal app answers /health").to.be.below(100);
            await new Promise((resolve) => setTimeout(resolve, 100));
        }
        const refused = await fetch(`${url}/visits`, { method: "POST", headers: { Authorization: "Bearer wrong-token!" } });
        const counted = await fetch(`${url}/visits`, { method: "POST", headers: { Authorization: "Bearer minimal-t0ken" } });
        server.kill("SIGTERM");

        expect(refused.status).to.equal(401);
        expect(await counted.json()).to.deep.equal({ visits: 1 });
        expect(await exited).to.equal(0);
    });
});

describe("buildRelease's bundles", function () {
    this.timeout(60_000);

    let workspace: string;
    let outDir: string;
    let entry: string;

    before(() => {
        workspace = mkdtempSync(join(tmpdir(), "webstack-bundle-cache-"));
        outDir = join(workspace, "build");
        entry = join(workspace, "server.js");
        writeFileSync(join(workspace, "greeting.js"), 'module.exports = "hello";\n');
        writeFileSync(entry, 'console.log(require("./greeting"));\n');
    });

    after(() => rmSync(workspace, { recursive: true, force: true }));

    const bundleCacheFiles = () => readdirSync(join(outDir, "bundles")).filter((file) => file.endsWith(".json"));
    const serverJs = (release: BuiltRelease) => readFileSync(join(release.directory, "server.js"), "utf8");

    it("reuses an entry's bundle while every file esbuild read for it is unchanged, and bundles again once one changes", async () => {
        const first = await buildRelease({ app: { entry }, outDir });
        expect(serverJs(first)).to.contain('"hello"');
        const [appCache] = bundleCacheFiles().filter((file) => readFileSync(join(outDir, "bundles", file), "utf8").includes("greeting.js"));
        // Marks the cached output: a build that reuses it ships the mark.
        const cachePath = join(outDir, "bundles", appCache);
        const cached = JSON.parse(readFileSync(cachePath, "utf8")) as { inputs: Record<string, string>; output: string };
        writeFileSync(cachePath, JSON.stringify({ ...cached, output: Buffer.from('console.log("from the cache");\n').toString("base64") }));
        expect(serverJs(await buildRelease({ app: { entry }, outDir }))).to.contain("from the cache");

        writeFileSync(join(workspace, "greeting.js"), 'module.exports = "hello again";\n');
        const rebuilt = await buildRelease({ app: { entry }, outDir });
        expect(serverJs(rebuilt)).to.contain('"hello again"').and.not.to.contain("from the cache");
        expect(rebuilt.id).to.not.equal(first.id);
    });
});
