import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig, readReleaseId } from "../../app/src/config";
import { ConfigError } from "../../config/configReader";

const minimal = { PORT: "3000", DB_NAME: "webstack", DB_USER: "webstack", DB_PASSWORD: "s3cret" };

function problemsOf(run: () => unknown): string {
    try {
        run();
    } catch (error) {
        expect(error).to.be.instanceOf(ConfigError);
        return (error as Error).message;
    }
    throw new Error("expected a ConfigError");
}

describe("parseConfig", () => {
    it("applies the documented defaults", () => {
        expect(parseConfig(minimal, "abc123")).to.deep.equal({
            port: 3000,
            host: "127.0.0.1",
            releaseId: "abc123",
            database: {
                endpoint: { socketPath: "/run/mysqld/mysqld.sock" },
                name: "webstack",
                user: "webstack",
                password: "s3cret",
                pool: { size: 8, queueLimit: 64 },
            },
        });
    });

    it("sizes the pool and its queue from DB_POOL_SIZE and DB_QUEUE_LIMIT", () => {
        expect(parseConfig({ ...minimal, DB_POOL_SIZE: "4", DB_QUEUE_LIMIT: "256" }, "x").database.pool).to.deep.equal({
            size: 4,
            queueLimit: 256,
        });
    });

    it("prefers RELEASE_ID over the release.json fallback, and takes HOST and DB_SOCKET", () => {
        const config = parseConfig({ ...minimal, RELEASE_ID: "r-2", HOST: "0.0.0.0", DB_SOCKET: "/tmp/db.sock" }, "abc123");

        expect(config).to.deep.include({ releaseId: "r-2", host: "0.0.0.0" });
        expect(config.database.endpoint).to.deep.equal({ socketPath: "/tmp/db.sock" });
    });

    it("connects over TCP with DB_HOST, on port 3306 unless DB_PORT says otherwise", () => {
        expect(parseConfig({ ...minimal, DB_HOST: "db.internal" }, "x").database.endpoint).to.deep.equal({
            host: "db.internal",
            port: 3306,
        });
        expect(parseConfig({ ...minimal, DB_HOST: "db.internal", DB_PORT: "3307" }, "x").database.endpoint).to.deep.equal({
            host: "db.internal",
            port: 3307,
        });
    });

    it("takes DB_TLS_CA_FILE over TCP: the connection is TLS, checked against that CA bundle", () => {
        const directory = mkdtempSync(join(tmpdir(), "webstack-config-"));
        try {
            const caFile = join(directory, "ca.pem");
            writeFileSync(caFile, "-----BEGIN CERTIFICATE-----\n");
            expect(parseConfig({ ...minimal, DB_HOST: "db.internal", DB_TLS_CA_FILE: caFile }, "x").database.tlsCaFile).to.equal(caFile);
        } finally {
            rmSync(directory, { recursive: true, force: true });
        }
    });

    const invalid: { case: string; env: Record<string, string | undefined>; message: RegExp }[] = [
        {
            case: "PORT is missing",
            env: { ...minimal, PORT: undefined },
            message: /PORT is missing; the TCP port to listen on. Set it with: PORT=3000/,
        },
        { case: "PORT is blank", env: { ...minimal, PORT: "  " }, message: /PORT is missing/ },
        {
            case: "PORT is not a number",
            env: { ...minimal, PORT: "http" },
            message: /PORT is "http"; expected a whole number from 1 to 65535, for example 3000\./,
        },
        { case: "PORT is 0", env: { ...minimal, PORT: "0" }, message: /PORT is "0"; expected a whole number from 1 to 65535/ },
        { case: "PORT is 65536", env: { ...minimal, PORT: "65536" }, message: /PORT is "65536"; expected a whole number from 1 to 65535/ },
        { case: "DB_NAME is missing", env: { ...minimal, DB_NAME: undefined }, message: /DB_NAME is missing; the database the app uses/ },
        { case: "DB_USER is missing", env: { ...minimal, DB_USER: "" }, message: /DB_USER is missing; the database user/ },
        {
            case: "DB_PORT is out of range",
            env: { ...minimal, DB_HOST: "db", DB_PORT: "99999" },
            message: /DB_PORT is "99999"; expected a whole number from 1 to 65535, for example 3306\./,
        },
        {
            case: "DB_SOCKET and DB_HOST are both set",
            env: { ...minimal, DB_SOCKET: "/s", DB_HOST: "db" },
            message: /only one of DB_SOCKET and DB_HOST can be set/,
        },
        { case: "DB_PORT is set without DB_HOST", env: { ...minimal, DB_PORT: "3306" }, message: /DB_PORT is set without DB_HOST/ },
        {
            case: "DB_TLS_CA_FILE is set without DB_HOST",
            env: { ...minimal, DB_TLS_CA_FILE: "/etc/ssl/certs/ca-certificates.crt" },
            message: /DB_TLS_CA_FILE is set without DB_HOST/,
        },
        {
            case: "DB_TLS_CA_FILE names a missing file",
            env: { ...minimal, DB_HOST: "db", DB_TLS_CA_FILE: "/nonexistent/ca.pem" },
            message: /DB_TLS_CA_FILE names \/nonexistent\/ca.pem, which does not exist/,
        },
        {
            case: "DB_POOL_SIZE is 0",
            env: { ...minimal, DB_POOL_SIZE: "0" },
            message: /DB_POOL_SIZE is "0"; expected a whole number from 1 to 100, for example 8\./,
        },
        {
            case: "DB_QUEUE_LIMIT is not a number",
            env: { ...minimal, DB_QUEUE_LIMIT: "lots" },
            message: /DB_QUEUE_LIMIT is "lots"; expected a whole number from 1 to 10000, for example 64\./,
        },
        {
            case: "RELEASE_ID has a space",
            env: { ...minimal, RELEASE_ID: "my release" },
            message: /RELEASE_ID is "my release"; expected 1 to 64 letters, digits/,
        },
    ];
    for (const { case: name, env, message } of invalid) {
        it(`rejects the configuration when ${name}`, () => {
            expect(problemsOf(() => parseConfig(env, "dev"))).to.match(message);
        });
    }

    it("reports every problem at once", () => {
        const message = problemsOf(() => parseConfig({}, "dev"));

        expect(message).to.equal(
            [
                "Invalid configuration:",
                "  - PORT is missing; the TCP port to listen on. Set it with: PORT=3000",
                "  - DB_NAME is missing; the database the app uses. Set it with: DB_NAME=webstack",
                "  - DB_USER is missing; the database user. Set it with: DB_USER=webstack",
            ].join("\n"),
        );
    });
});

describe("readReleaseId", () => {
    let directory: string;

    beforeEach(() => {
        directory = mkdtempSync(join(tmpdir(), "webstack-release-"));
    });

    afterEach(() => {
        rmSync(directory, { recursive: true, force: true });
    });

    it("reads the id from release.json, and says dev without one", () => {
        expect(readReleaseId(directory)).to.equal("dev");
        writeFileSync(join(directory, "release.json"), '{ "id": "0123456789ab" }');
        expect(readReleaseId(directory)).to.equal("0123456789ab");
    });

    it("names the file when release.json is broken", () => {
        writeFileSync(join(directory, "release.json"), "{ id: ");

        expect(problemsOf(() => readReleaseId(directory))).to.contain(`${join(directory, "release.json")} is not valid JSON`);
    });
});
