import { expect } from "chai";
import { get } from "node:http";
import { databaseConfig, type TestDatabase } from "../support/mariadb";
import { createPool, type Pool } from "../../app/src/database";
import { shutdownOnSignals } from "../../app/src/server";
import { migratedDatabase, startApp, type RunningApp } from "./harness";

/** A GET on a new connection (no keep-alive reuse); resolves with the status or the socket error's code. */
function freshGet(url: string): Promise<string> {
    return new Promise((resolve) => {
        get(url, { agent: false }, (response) => {
            response.resume();
            resolve(String(response.statusCode));
        }).on("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    });
}

describe("shutdownOnSignals", () => {
    let database: TestDatabase;
    let pool: Pool;
    let running: RunningApp;
    let releaseSlowRequest: () => void;
    let slowRequestArrived: Promise<void>;
    let removeHandlers: () => void;
    let exited: Promise<number>;

    before(async () => {
        database = await migratedDatabase();
        pool = createPool(databaseConfig(database));
        let arrived: () => void = () => undefined;
        slowRequestArrived = new Promise((resolve) => (arrived = resolve));
        const released = new Promise<void>((resolve) => (releaseSlowRequest = resolve));
        // Test-only route, injected through the factory: production has no way to make a request slow.
        running = await startApp(
            databaseConfig(database),
            (app) =>
                app.get("/test/slow", async () => {
                    arrived();
                    await released;
                    return { finished: true };
                }),
            { pool },
        );
        exited = new Promise((resolve) => {
            removeHandlers = shutdownOnSignals(running.app, resolve);
        });
    });

    after(async () => {
        removeHandlers();
        await database?.drop();
    });

    it("on SIGTERM stops accepting, finishes the in-flight request, ends the pool and exits 0", async () => {
        const inFlight = fetch(`${running.url}/test/slow`);
        await slowRequestArrived;

        process.emit("SIGTERM", "SIGTERM");
        while (running.app.server.listening) {
            await new Promise((resolve) => setImmediate(resolve));
        }
        const newConnection = await freshGet(`${running.url}/healthz`);
        const exitedEarly = await Promise.race([exited.then(() => true), new Promise((resolve) => setTimeout(() => resolve(false), 100))]);
        releaseSlowRequest();
        const response = await inFlight;

        expect(newConnection).to.equal("ECONNREFUSED");
        expect(exitedEarly, "exited before the in-flight request finished").to.equal(false);
        expect(response.status).to.equal(200);
        expect(await response.json()).to.deep.equal({ finished: true });
        expect(await exited).to.equal(0);
        const afterShutdown = await pool.query("SELECT 1").then(
            () => "answered",
            (error: Error) => error.message,
        );
        expect(afterShutdown).to.match(/Pool is closed/);
    });

    it("logs and ignores a signal that arrives while it drains, instead of dying with Node's default action", () => {
        expect(process.listenerCount("SIGINT")).to.equal(1);
        expect(() => process.emit("SIGINT", "SIGINT")).not.to.throw();
    });

    it("removes every handler it installed when asked", () => {
        removeHandlers();

        expect(process.listenerCount("SIGTERM")).to.equal(0);
        expect(process.listenerCount("SIGINT")).to.equal(0);
    });
});
