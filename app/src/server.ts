/**
 * The posts app's entry point: `node server.js` serves, with the environment that systemd's
 * EnvironmentFile= provides (the release's `migrate.js` applies its migrations before).
 */
import type { FastifyInstance } from "fastify";
import { buildApp } from "./app";
import { describeDatabase, type Environment } from "../../release/databaseSettings";
import { parseConfig, readReleaseId } from "./config";

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

/** Serves with the release id of the release.json beside this file (a release), or "dev" (from source). */
async function serve(env: Environment, directory: string): Promise<void> {
    const config = parseConfig(env, readReleaseId(directory));
    const app = buildApp(config);
    shutdownOnSignals(app, (code) => process.exit(code));
    await app.listen({ port: config.port, host: config.host });
    app.log.info({ release: config.releaseId, database: describeDatabase(config.database) }, "serving");
}

if (require.main === module) {
    serve(process.env, __dirname).catch((error: unknown) => {
        console.error(`webstack: ${error instanceof Error ? error.message : String(error)}`);
        process.exit(1);
    });
}
