import { join } from "node:path";
import type { AppSource } from "../release/release";
import { HEALTH_PATH } from "./src/healthPath";

/** The posts app: the default app, and the example of one. */
export const POSTS_APP = {
    entry: join(__dirname, "src", "server.ts"),
    publicDir: join(__dirname, "public"),
    migrationsDir: join(__dirname, "migrations"),
    healthPath: HEALTH_PATH,
} satisfies AppSource;
