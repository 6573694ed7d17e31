/**
 * Starts the app in-process on a random port against a real, throwaway MariaDB database.
 */
import type { FastifyInstance } from "fastify";
import { buildApp, type AppDependencies } from "../../app/src/app";
import type { AppConfig } from "../../app/src/config";
import { POSTS_APP } from "../../app/postsApp";
import type { DatabaseSettings } from "../../release/databaseSettings";
import { migrate } from "../../release/migrator/migrations";
import { createTestDatabase, databaseConfig, type TestDatabase } from "../support/mariadb";

export const TEST_RELEASE_ID = "test-release";

export function appConfig(database: DatabaseSettings): AppConfig {
    return { port: 0, host: "127.0.0.1", releaseId: TEST_RELEASE_ID, database };
}

/** A fresh database with the app's migrations applied. */
export async function migratedDatabase(): Promise<TestDatabase> {
    const database = await createTestDatabase();
    await migrate(databaseConfig(database), POSTS_APP.migrationsDir);
    return database;
}

export interface RunningApp {
    readonly app: FastifyInstance;
    /** `http://127.0.0.1:<port>` */
    readonly url: string;
}

/** Builds the app (without logs), lets `configure` add test-only routes, and listens on a random port. */
export async function startApp(
    database: DatabaseSettings,
    configure: (app: FastifyInstance) => void = () => undefined,
    dependencies: AppDependencies = {},
): Promise<RunningApp> {
    const app = buildApp(appConfig(database), { logger: false, ...dependencies });
    configure(app);
    const url = await app.listen({ port: 0, host: "127.0.0.1" });
    return { app, url };
}

export interface JsonResponse {
    readonly status: number;
    readonly headers: Headers;
    // The API's JSON; tests read it field by field.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    readonly body: any;
}

/** Sends a request and parses the JSON answer. A string `body` is sent as is (for malformed JSON). */
export async function request(url: string, init: { method?: string; body?: unknown; contentType?: string } = {}): Promise<JsonResponse> {
    const hasBody = init.body !== undefined;
    const response = await fetch(url, {
        method: init.method ?? (hasBody ? "POST" : "GET"),
        headers: hasBody ? { "content-type": init.contentType ?? "application/json" } : {},
        body: hasBody ? (typeof init.body === "string" ? init.body : JSON.stringify(init.body)) : undefined,
    });
    return { status: response.status, headers: response.headers, body: await response.json() };
}

/** The app against a fresh migrated database, for one suite: {@link useAppOnFreshDatabase}'s getters. */
export interface SuiteApp {
    /** The database's settings, for arranging and inspecting state with {@link query}. */
    database(): DatabaseSettings;
    /** `http://127.0.0.1:<port>` + path. */
    url(path: string): string;
}

/** Registers the suite's before and after hooks: the app on a random port against its own migrated database, both removed after. */
export function useAppOnFreshDatabase(): SuiteApp {
    let database: TestDatabase | undefined;
    let running: RunningApp | undefined;
    before(async () => {
        database = await migratedDatabase();
        running = await startApp(databaseConfig(database));
    });
    after(async () => {
        await running?.app.close();
        await database?.drop();
    });
    const started = <T>(value: T | undefined): T => {
        if (value === undefined) {
            throw new Error("the app is not started yet: use it inside a test or a hook");
        }
        return value;
    };
    return {
        database: () => databaseConfig(started(database)),
        url: (path) => `${started(running).url}${path}`,
    };
}
