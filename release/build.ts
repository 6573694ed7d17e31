/**
 * Releases of a Node.js app: its entry file bundled into one self-contained `server.js` (esbuild, no
 * node_modules on the server), its static files, its migrations and the platform's `migrate.js`,
 * packed into a reproducible tarball whose name carries a content hash. The same source always gives
 * the same id and the same bytes; any change, a new id. The posts app in app/ is the default.
 *
 *     npx tsx release/build.ts        # prints the id and the tarball's path
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { pipeline } from "node:stream/promises";
import { build } from "esbuild";
import { healthPathProblem } from "../provisioning/formats";
import { DEFAULT_HEALTH_PATH } from "../provisioning/layout";
import { POSTS_APP } from "../app/postsApp";
import type { AppSource, Release } from "./release";

/**
 * A release as built here: what the plan ships (its id, 12 hex characters of the content hash, and
 * the tarball `<outDir>/webstack-release-<id>.tar.gz`), and the unpacked release beside it.
 */
export interface BuiltRelease extends Release {
    /** `<outDir>/release/<id>`: the unpacked release, the tarball's contents. */
    readonly directory: string;
}

export interface BuildOptions {
    /** The app to release. Defaults to {@link POSTS_APP}. */
    readonly app?: AppSource;
    /** Where the release directory and tarball go. Defaults to build/ at the repository root. */
    readonly outDir?: string;
    /**
     * Text packed into the release as `stamp`, and so into its id: ships unchanged source as a new
     * release (the end-to-end tests deploy and roll back between two of them). Defaults to none.
     */
    readonly stamp?: string;
}

/** A file of the release: its path inside the release (with "/") and its bytes. */
export interface ReleaseFile {
    readonly path: string;
    readonly content: Buffer;
}

const DEFAULT_OUT_DIR = join(__dirname, "..", "build");
/** The platform's migrator, in every release. */
const MIGRATOR_ENTRY = join(__dirname, "migrator", "migrate.ts");
const ID_LENGTH = 12;

/** The release id: a sha256 over every file's path and content, in path order. */
export function releaseId(files: readonly ReleaseFile[]): string {
    const hash = createHash("sha256");
    for (const file of [...files].sort((a, b) => (a.path < b.path ? -1 : 1))) {
        // Lengths first, so no two different file sets can produce the same byte stream.
        hash.update(`${file.path.length}:${file.path}:${file.content.length}:`).update(file.content);
    }
    return hash.digest("hex").slice(0, ID_LENGTH);
}

/** The tar arguments that make the same files produce the same bytes (no times, owners or umask leak in). */
export function reproducibleTarArguments(directory: string, entries: readonly string[]): string[] {
    return [
        "--create",
        "--format=gnu",
        "--sort=name",
        "--mtime=@0",
        "--owner=0",
        "--group=0",
        "--numeric-owner",
        "--mode=u=rwX,go=rX",
        `--directory=${directory}`,
        "--file=-",
        "--",
        ...[...entries].sort(),
    ];
}

function filesUnder(directory: string, prefix: string): ReleaseFile[] {
    return readdirSync(directory, { recursive: true, withFileTypes: true })
        .filter((entry) => entry.isFile())
        .map((entry) => {
            const path = join(entry.parentPath, entry.name);
            return { path: `${prefix}/${relative(directory, path).split("\\").join("/")}`, content: readFileSync(path) };
        });
}

async function bundle(entry: string, path: string): Promise<ReleaseFile> {
    const result = await build({
        entryPoints: [entry],
        absWorkingDir: dirname(entry),
        bundle: true,
        platform: "node",
        target: "node20",
        format: "cjs",
        outfile: path,
        write: false,
        logLevel: "error",
        legalComments: "none",
    });
    return { path, content: Buffer.from(result.outputFiles[0].contents) };
}

function writeRelease(directory: string, files: readonly ReleaseFile[]): void {
    if (existsSync(directory)) {
        return; // Same id, same contents: an earlier build already wrote it.
    }
    // Written aside and renamed, so a concurrent build or a crash never leaves a half-written release.
    const staging = `${directory}.tmp-${process.pid}`;
    rmSync(staging, { recursive: true, force: true });
    for (const file of files) {
        const path = join(staging, file.path);
        mkdirSync(dirname(path), { recursive: true });
        writeFileSync(path, file.content, { mode: 0o644 });
    }
    try {
        renameSync(staging, directory);
    } catch (error) {
        rmSync(staging, { recursive: true, force: true });
        if (!existsSync(directory)) {
            throw error;
        }
    }
}

async function packTarball(directory: string, entries: readonly string[], artifactPath: string): Promise<void> {
    const staging = `${artifactPath}.tmp-${process.pid}`;
    const tar = spawn("tar", reproducibleTarArguments(directory, entries), { stdio: ["ignore", "pipe", "inherit"] });
    const gzip = spawn("gzip", ["-n", "-9"], { stdio: ["pipe", "pipe", "inherit"] });
    tar.stdout.pipe(gzip.stdin);
    const exited = (child: ChildProcess, name: string) =>
        new Promise<void>((resolve, reject) => {
            child.on("error", reject);
            child.on("close", (code) =>
                code === 0 ? resolve() : reject(new Error(`${name} exited with ${code} while packing ${artifactPath}`)),
            );
        });
    await Promise.all([exited(tar, "tar"), exited(gzip, "gzip -n"), pipeline(gzip.stdout, createWriteStream(staging))]);
    renameSync(staging, artifactPath);
}

/** Throws an error that names the field and a fix unless the app can be built into a release. */
export function validateAppSource(app: AppSource, exists: (path: string) => boolean = existsSync): void {
    if (!exists(app.entry)) {
        throw new Error(`app.entry ${app.entry} does not exist; give the app's entry file, for example ${POSTS_APP.entry}.`);
    }
    for (const [field, directory] of [
        ["app.publicDir", app.publicDir],
        ["app.migrationsDir", app.migrationsDir],
    ] as const) {
        if (directory !== undefined && !exists(directory)) {
            throw new Error(`${field} ${directory} does not exist; give an existing directory, or leave ${field} out.`);
        }
    }
    const problem = app.healthPath === undefined ? undefined : healthPathProblem(app.healthPath);
    if (problem !== undefined) {
        throw new Error(`app.healthPath "${app.healthPath}" ${problem}.`);
    }
}

/** Builds the release of `options.app` (default: the posts app) into `options.outDir` (default build/) and returns its id and paths. */
export async function buildRelease(options: BuildOptions = {}): Promise<BuiltRelease> {
    const app = options.app ?? POSTS_APP;
    validateAppSource(app);
    const outDir = options.outDir ?? DEFAULT_OUT_DIR;
    const healthPath = app.healthPath ?? DEFAULT_HEALTH_PATH;
    const files = [
        await bundle(app.entry, "server.js"),
        await bundle(MIGRATOR_ENTRY, "migrate.js"),
        ...(app.publicDir === undefined ? [] : filesUnder(app.publicDir, "public")),
        ...(app.migrationsDir === undefined ? [] : filesUnder(app.migrationsDir, "migrations")),
        ...(options.stamp === undefined ? [] : [{ path: "stamp", content: Buffer.from(`${options.stamp}\n`) }]),
    ];
    // The health path is part of what the release is, so it is part of its id.
    const id = releaseId([...files, { path: "release.json", content: Buffer.from(healthPath) }]);
    const directory = join(outDir, "release", id);
    const artifactPath = join(outDir, `webstack-release-${id}.tar.gz`);
    const allFiles = [...files, { path: "release.json", content: Buffer.from(`${JSON.stringify({ id, healthPath })}\n`) }];
    mkdirSync(join(outDir, "release"), { recursive: true });
    writeRelease(directory, allFiles);
    if (!existsSync(artifactPath)) {
        await packTarball(directory, readdirSync(directory), artifactPath);
    }
    return { id, artifactPath, healthPath, directory };
}

if (require.main === module) {
    buildRelease().then(
        (release) => console.log(`${release.id} ${release.artifactPath}`),
        (error: unknown) => {
            console.error(`release build failed: ${error instanceof Error ? error.message : String(error)}`);
            process.exit(1);
        },
    );
}
