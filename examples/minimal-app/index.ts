/**
 * The minimal app as webstack takes it: its entry file, static files, migrations and health path.
 * `buildRelease({ app: MINIMAL_APP })` makes a release of it.
 */
import { join } from "node:path";
import type { AppSource } from "../../components";

export const MINIMAL_APP: AppSource = {
    entry: join(__dirname, "server.js"),
    publicDir: join(__dirname, "public"),
    migrationsDir: join(__dirname, "migrations"),
    healthPath: "/health",
};
