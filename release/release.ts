const RELEASE_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Why `id` cannot name a release (for the caller to prefix with where it came from), or undefined when it can. */
export function releaseIdProblem(id: string): string | undefined {
    return RELEASE_ID.test(id)
        ? undefined
        : `is ${JSON.stringify(id)}; expected 1 to 64 letters, digits, dots, dashes or underscores, starting with a letter or digit (it names a directory and a file on the server)`;
}

/** A release of an app, built by release/build.ts (`buildRelease`). */
export interface Release {
    /** Names the release everywhere: its directory and the RELEASE_ID its instances get. */
    readonly id: string;
    /**
     * The gzip tarball on the workstation: server.js, migrate.js and release.json at its top level,
     * and public/ and migrations/ when the app has them.
     */
    readonly artifactPath: string;
    /** Answers 200 once an instance can serve; release.json carries it too, for the server's commands. */
    readonly healthPath: string;
}

/** A Node.js app to release: what a program that uses the component brings. */
export interface AppSource {
    /**
     * The entry file (JavaScript or TypeScript), bundled with everything it imports into server.js.
     * It serves HTTP on 127.0.0.1:$PORT, with the database settings in DB_SOCKET, DB_NAME, DB_USER
     * and DB_PASSWORD, and exits when asked to (SIGTERM) once its requests are answered.
     */
    readonly entry: string;
    /** Files nginx serves as they are when a request's path names one (`/` is its index.html). Defaults to none. */
    readonly publicDir?: string;
    /** Migrations, `NNN_name.sql` files applied in order, each once, before a release serves. Defaults to none. */
    readonly migrationsDir?: string;
    /** A path that answers 200 once an instance can serve: a deploy waits for it, and Route53 checks it. Defaults to /healthz. */
    readonly healthPath?: string;
}
