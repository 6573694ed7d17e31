import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectionOptions, describeDatabase, parseDatabaseConfig } from "../../release/databaseSettings";

const minimal = { DB_NAME: "webstack", DB_USER: "webstack", DB_PASSWORD: "s3cret" };

describe("connectionOptions", () => {
    const tcp = { DB_HOST: "db.internal", DB_NAME: "webstack", DB_USER: "webstack", DB_PASSWORD: "s3cret" };

    it("speaks plain MySQL protocol when no CA bundle is given, and gives up connecting after the time it is given", () => {
        const options = connectionOptions(parseDatabaseConfig(tcp), 2_500);
        expect(options).not.to.have.property("ssl");
        expect(options.connectTimeout).to.equal(2_500);
    });

    it("with a CA bundle, refuses a server whose certificate does not chain to it or does not name the host", () => {
        const directory = mkdtempSync(join(tmpdir(), "webstack-database-"));
        try {
            const caFile = join(directory, "ca.pem");
            writeFileSync(caFile, "-----BEGIN CERTIFICATE-----\nbundle\n");
            const options = connectionOptions(parseDatabaseConfig({ ...tcp, DB_TLS_CA_FILE: caFile }), 1_000);
            expect(options.ssl).to.deep.equal({
                ca: "-----BEGIN CERTIFICATE-----\nbundle\n",
                rejectUnauthorized: true,
                verifyIdentity: true,
            });
        } finally {
            rmSync(directory, { recursive: true, force: true });
        }
    });
});

describe("parseDatabaseConfig", () => {
    it("needs no PORT, so the release's migrate.js runs from the same environment file", () => {
        expect(parseDatabaseConfig({ DB_NAME: "n", DB_USER: "u" })).to.deep.equal({
            endpoint: { socketPath: "/run/mysqld/mysqld.sock" },
            name: "n",
            user: "u",
            password: "",
            pool: { size: 8, queueLimit: 64 },
        });
    });
});

describe("describeDatabase", () => {
    it("describes the connection without the password", () => {
        const description = describeDatabase(parseDatabaseConfig(minimal));

        expect(description).to.deep.equal({ socketPath: "/run/mysqld/mysqld.sock", name: "webstack", user: "webstack" });
        expect(JSON.stringify(description)).not.to.contain("s3cret");
    });
});
