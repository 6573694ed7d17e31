import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectionOptions } from "../../app/src/database";
import { parseDatabaseConfig } from "../../app/src/config";

describe("connectionOptions", () => {
    const tcp = { DB_HOST: "db.internal", DB_NAME: "webstack", DB_USER: "webstack", DB_PASSWORD: "s3cret" };

    it("speaks plain MySQL protocol when no CA bundle is given", () => {
        expect(connectionOptions(parseDatabaseConfig(tcp))).not.to.have.property("ssl");
    });

    it("with a CA bundle, refuses a server whose certificate does not chain to it or does not name the host", () => {
        const directory = mkdtempSync(join(tmpdir(), "webstack-database-"));
        try {
            const caFile = join(directory, "ca.pem");
            writeFileSync(caFile, "-----BEGIN CERTIFICATE-----\nbundle\n");
            const options = connectionOptions(parseDatabaseConfig({ ...tcp, DB_TLS_CA_FILE: caFile }));
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
