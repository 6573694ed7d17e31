import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { HEALTH_CACHE_MS } from "../../app/src/app";
import { DATABASE_DEADLINE_MS } from "../../app/src/database";
import { databaseConfig, type TestDatabase } from "../support/mariadb";
import { migratedDatabase, request, startApp, type RunningApp } from "./harness";
import { SocketProxy } from "./socketProxy";

// The app reaches the shared MariaDB through a proxy socket that the tests cut and restore, so the
// server itself never stops and other suites are unaffected.
describe("the app while its database is away", () => {
    let database: TestDatabase;
    let proxyDirectory: string;
    let proxy: SocketProxy;
    let running: RunningApp;
    const url = (path: string) => `${running.url}${path}`;

    before(async () => {
        database = await migratedDatabase();
        proxyDirectory = mkdtempSync(join(tmpdir(), "webstack-db-proxy-"));
        proxy = new SocketProxy(database.socketPath, join(proxyDirectory, "mysqld.sock"));
        await proxy.forward();
        running = await startApp(databaseConfig(database, proxy.path));
    });

    after(async () => {
        await running?.app.close();
        await proxy?.refuse();
        rmSync(proxyDirectory, { recursive: true, force: true });
        await database?.drop();
    });

    describe("when connections are refused", () => {
        before(async () => {
            // Open pooled connections first, so the outage also breaks connections the pool holds.
            expect((await request(url("/api/posts"))).status).to.equal(200);
            await proxy.refuse();
        });

        it("answers /readyz with 503 unavailable", async () => {
            const response = await request(url("/readyz"));

            expect(response.status).to.equal(503);
            expect(response.body).to.deep.equal({ status: "unavailable" });
        });

        it("answers API reads and writes with 503 database_unavailable and when to try again", async () => {
            const read = await request(url("/api/posts"));
            const write = await request(url("/api/posts"), { body: { author: "x", body: "y" } });

            for (const response of [read, write]) {
                expect(response.status).to.equal(503);
                expect(response.body).to.deep.equal({
                    error: "database_unavailable",
                    message: "The database is unavailable; try again shortly.",
                });
                expect(response.headers.get("retry-after")).to.equal("1");
            }
        });

        it("answers /healthz with 503 naming the database, so an outside checker sees the site down", async () => {
            // The probe's answer is kept for up to a second; past that, the outage shows.
            await new Promise((resolve) => setTimeout(resolve, HEALTH_CACHE_MS));
            const response = await request(url("/healthz"));

            expect(response.status).to.equal(503);
            expect(response.body).to.deep.equal({ status: "unavailable", database: "unreachable" });
            expect(response.headers.get("retry-after")).to.equal("1");
        });
    });

    describe("when connections are accepted but never answered", () => {
        before(async () => {
            await proxy.hang();
        });

        it("answers /readyz with 503 after its one-second limit instead of hanging", async () => {
            const response = await request(url("/readyz"));

            expect(response.status).to.equal(503);
            expect(response.body).to.deep.equal({ status: "unavailable" });
        });

        it("answers API requests with 503 within the database deadline, so nginx never mistakes the app for hung", async () => {
            const started = Date.now();
            const response = await request(url("/api/posts"));
            const elapsedMs = Date.now() - started;

            expect(response.status).to.equal(503);
            expect(elapsedMs).to.be.within(DATABASE_DEADLINE_MS - 50, DATABASE_DEADLINE_MS + 2_000);
        });
    });

    describe("when the database comes back", () => {
        before(async () => {
            await proxy.forward();
        });

        it("is ready again on the first probe, with no restart", async () => {
            const response = await request(url("/readyz"));

            expect(response.status).to.equal(200);
            expect(response.body).to.deep.equal({ status: "ready" });
        });

        it("serves writes and reads again", async () => {
            const created = await request(url("/api/posts"), { body: { author: "back", body: "again" } });
            const fetched = await request(url(`/api/posts/${created.body.id}`));

            expect(created.status).to.equal(201);
            expect(fetched.body).to.deep.equal(created.body);
        });
    });
});
