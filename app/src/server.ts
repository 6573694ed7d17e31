/**
 * The release's entry point: `node server.js` serves, `node server.js migrate` applies migrations
 * and exits. Both read the environment that systemd's EnvironmentFile= provides.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { FastifyInstance } from "fastify";
import { buildApp } from "./app";
import { describeDatabase, parseConfig, parseDatabaseConfig, readReleaseId, type Environment } from "./config";
import { migrate } from "./migrations";

/**
 * Where release.json and migrations/ live: next to the bundled server.js in a release, or the app/
 * directory when running from source (app/src/server.ts).
 */
export function appRoot(moduleDirectory: string, exists: (path: string) => boolean = existsSync): string {
    return exists(join(moduleDirectory, "migrations")) ? moduleDirectory : join(moduleDirectory, "..");
}

/**
 * On the first of `signals`: stop accepting connections, let in-flight requests finish, end the
 * pool (the app's onClose hook), then exit 0, or 1 if closing failed. Later signals are logged and
 * ignored. Returns a function that removes every handler it installed.
 */
export function shutdownOnSignals(
    app: FastifyInstance,
    exit: (code: number) => void,
    signals: readonly NodeJS.Signals[] = ["SIGTERM", "SIGINT"],
): () => void {
    const remove = () =>
        signals.forEach((signal) => {
            process.off(signal, onSignal);
            process.off(signal, ignoreRepeatedSignal);
        });
    function onSignal(signal: NodeJS.Signals): void {
        // A second signal while draining would otherwise kill the process with Node's default action.
        signals.forEach((other) => {
            process.off(other, onSignal);
            process.on(other, ignoreRepeatedSignal);
        });
        app.log.info({ signal }, "shutting down: finishing in-flight requests");
        app.close().then(
            () => {
                app.log.info("shut down cleanly");
                exit(0);
            },
            (error: unknown) => {
                app.log.error({ err: error }, "shutdown failed");
                exit(1);
            },
        );
    }
    function ignoreRepeatedSignal(signal: NodeJS.Signals): void {
        app.log.warn({ signal }, "already shutting down");
    }
    signals.forEach((signal) => process.on(signal, onSignal));
    return remove;
}

async function serve(env: Environment, root: string): Promise<void> {
    const config = parseConfig(env, readReleaseId(root));
    const app = buildApp(config);
    shutdownOnSignals(app, (code) => process.exit(code));
    await app.listen({ port: config.port, host: config.host });
    app.log.info({ release: config.releaseId, database: describeDatabase(config.database) }, "serving");
}

async function runMigrations(env: Environment, root: string): Promise<void> {
    const database = parseDatabaseConfig(env);
    const applied = await migrate(database, join(root, "migrations"));
    console.log(
        JSON.stringify({
            msg: applied.length > 0 ? `applied ${applied.length} migration(s)` : "schema is up to date",
            applied,
            database: describeDatabase(database),
        }),
    );
}

const COMMANDS: Record<string, (env: Environment, root: string) => Promise<void>> = { serve, migrate: runMigrations };

async function main(argv: readonly string[], env: Environment, moduleDirectory: string): Promise<void> {
    const commandName = argv[0] ?? "serve";
    const command = COMMANDS[commandName];
    if (command === undefined) {
        throw new Error(`Unknown command "${commandName}"; usage: node server.js [serve|migrate].`);
    }
    await command(env, appRoot(moduleDirectory));
}

if (require.main === module) {
    main(process.argv.slice(2), process.env, __dirname).catch((error: unknown) => {
        console.error(`webstack: ${error instanceof Error ? error.message : String(error)}`);
        process.exit(1);
    });
}
