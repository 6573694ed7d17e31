/**
 * `node migrate.js`: applies the release's `migrations/` to the app's database and exits. Every
 * release that release/build.ts builds carries it, whatever its app, so the server migrates any app the
 * same way; it reads the database settings that systemd's EnvironmentFile= provides.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describeDatabase, parseDatabaseConfig } from "../databaseSettings";
import { migrate } from "./migrations";

async function main(): Promise<void> {
    const database = parseDatabaseConfig(process.env);
    const directory = join(__dirname, "migrations");
    const applied = existsSync(directory) ? await migrate(database, directory) : [];
    console.log(
        JSON.stringify({
            msg: applied.length > 0 ? `applied ${applied.length} migration(s)` : "schema is up to date",
            applied,
            database: describeDatabase(database),
        }),
    );
}

main().catch((error: unknown) => {
    console.error(`webstack migrate: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
});
