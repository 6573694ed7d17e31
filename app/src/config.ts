/**
 * The app's configuration, read from the environment (systemd's EnvironmentFile= on the server) and
 * validated once at start, so a bad value stops the process with a message naming the variable.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError } from "../../config/configReader";
import {
    type DatabaseSettings,
    type Environment,
    environmentReader,
    portBounds,
    readDatabaseSettings,
} from "../../release/databaseSettings";
import { releaseIdProblem } from "../../release/release";

export interface AppConfig {
    readonly port: number;
    readonly host: string;
    readonly releaseId: string;
    readonly database: DatabaseSettings;
}

const DEFAULT_HOST = "127.0.0.1";
/** The port a message gives as its example; the platform always sets PORT. */
const DEFAULT_PORT = 3000;
/** The release id when neither RELEASE_ID nor a release.json says otherwise (running from source). */
const DEV_RELEASE_ID = "dev";

/**
 * The full configuration for serving. `releaseIdFallback` applies when RELEASE_ID is unset
 * (see {@link readReleaseId}).
 */
export function parseConfig(env: Environment, releaseIdFallback: string): AppConfig {
    const reader = environmentReader(env);
    const port = reader.integer("PORT", portBounds(DEFAULT_PORT), "the TCP port to listen on.");
    const releaseId = reader.string("RELEASE_ID") ?? releaseIdFallback;
    const releaseIdIssue = releaseIdProblem(releaseId);
    if (releaseIdIssue !== undefined) {
        reader.problems.push(`RELEASE_ID ${releaseIdIssue}.`);
    }
    return reader.checked({
        port: port ?? 0,
        host: reader.string("HOST") ?? DEFAULT_HOST,
        releaseId,
        database: readDatabaseSettings(reader, env),
    });
}

/** The id in `<directory>/release.json`, written by the release build; {@link DEV_RELEASE_ID} when absent. */
export function readReleaseId(directory: string): string {
    const file = join(directory, "release.json");
    if (!existsSync(file)) {
        return DEV_RELEASE_ID;
    }
    let id: unknown;
    try {
        id = (JSON.parse(readFileSync(file, "utf8")) as { id?: unknown }).id;
    } catch (error) {
        throw new ConfigError([`${file} is not valid JSON (${(error as Error).message}); rebuild the release`]);
    }
    if (typeof id !== "string") {
        throw new ConfigError([`${file} has no string "id"; rebuild the release`]);
    }
    return id;
}
