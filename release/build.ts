/**
 * Releases of a Node.js app: its entry file bundled into one self-contained `server.js` (esbuild, no
 * node_modules on the server), its static files, its migrations and the platform's `migrate.js`,
 * packed into a reproducible tarball whose name carries a content hash. The same source always gives
 * the same id and the same bytes, on any OS, umask, timezone or locale, with no tar or gzip on PATH
 * (the tarball is packed in this process); any change, a new id. The posts app in app/ is the default.
 *
 *     npx tsx release/build.ts        # prints the id and the tarball's path
 */
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { constants as zlibConstants, gzipSync } from "node:zlib";
import { build, type BuildOptions as EsbuildOptions, version as esbuildVersion } from "esbuild";
import { Header } from "tar";
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

export interface BuildSettings {
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

/** The repository's build/ directory: releases, and the scripts the Pulumi executor uploads. */
export const BUILD_DIR = join(__dirname, "..", "build");
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

/** A tar block: headers and contents are padded to it, and two empty ones end the archive. */
const TAR_BLOCK = 512;
/** RFC 1952's operating-system byte for Unix, where the tarball is unpacked; zlib would write the building machine's. */
const GZIP_OS_UNIX = 3;

/** One tar header block (ustar, written by node-tar): owner 0, time 0, nothing of the building machine. */
function tarHeader(path: string, type: "File" | "Directory", size: number): Buffer {
    const header = new Header({
        path,
        type,
        size,
        mode: type === "Directory" ? 0o755 : 0o644,
        uid: 0,
        gid: 0,
        uname: "",
        gname: "",
        mtime: new Date(0),
    });
    if (header.encode()) {
        throw new Error(
            `the release file ${path} has a path too long for a tar header (at most 255 characters, 100 of them after the last "/"); shorten it.`,
        );
    }
    return header.block as Buffer;
}

/** Every directory a file of `paths` is in, parents included: "a/b/c.txt" gives "a" and "a/b". */
function parentDirectories(paths: readonly string[]): string[] {
    const directories = new Set<string>();
    for (const path of paths) {
        const parts = path.split("/");
        for (let depth = 1; depth < parts.length; depth += 1) {
            directories.add(parts.slice(0, depth).join("/"));
        }
    }
    return [...directories];
}

/**
 * The release's gzip tarball, from its files alone: every directory (mode 755) and file (mode 644) in
 * path order, owned by 0 at time 0, compressed at level 9 with no name or time in the gzip header.
 * The same files give the same bytes wherever they are packed.
 */
export function releaseTarball(files: readonly ReleaseFile[]): Buffer {
    const entries = [
        ...parentDirectories(files.map((file) => file.path)).map((directory) => ({ path: `${directory}/`, content: undefined })),
        ...files.map((file) => ({ path: file.path, content: file.content })),
    ].sort((a, b) => (a.path < b.path ? -1 : 1));
    const blocks = entries.flatMap(({ path, content }) =>
        content === undefined
            ? [tarHeader(path, "Directory", 0)]
            : [tarHeader(path, "File", content.length), content, Buffer.alloc((TAR_BLOCK - (content.length % TAR_BLOCK)) % TAR_BLOCK)],
    );
    const gzip = gzipSync(Buffer.concat([...blocks, Buffer.alloc(2 * TAR_BLOCK)]), { level: zlibConstants.Z_BEST_COMPRESSION });
    gzip[9] = GZIP_OS_UNIX;
    return gzip;
}

function filesUnder(directory: string, prefix: string): ReleaseFile[] {
    return readdirSync(directory, { recursive: true, withFileTypes: true })
        .filter((entry) => entry.isFile())
        .map((entry) => {
            const path = join(entry.parentPath, entry.name);
            return { path: `${prefix}/${relative(directory, path).split("\\").join("/")}`, content: readFileSync(path) };
        });
}

/** An earlier bundle of an entry: the SHA-256 of every file esbuild read for it, and what it made of them. */
interface CachedBundle {
    readonly inputs: Readonly<Record<string, string>>;
    readonly output: string;
}

function fileSha256(file: string): string | undefined {
    return existsSync(file) ? createHash("sha256").update(readFileSync(file)).digest("hex") : undefined;
}

/** Whether every file an earlier bundle read is still as it was then. */
function bundleStillCurrent(cached: CachedBundle): boolean {
    return Object.entries(cached.inputs).every(([file, sha256]) => fileSha256(file) === sha256);
}

/**
 * The entry bundled into one file by esbuild, or its earlier bundle while none of the files esbuild
 * read for it changed (`<cacheDir>/<key>.json`): every `pulumi preview` and `up` builds the release,
 * and a bundle costs a second, most of a no-change run's own work. The key holds what else shapes the
 * output: esbuild's version, the options, and the lockfile, whose change may resolve other files.
 */
async function bundle(entry: string, path: string, cacheDir: string): Promise<ReleaseFile> {
    const options = {
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
        metafile: true,
    } satisfies EsbuildOptions;
    const key = createHash("sha256")
        .update(
            JSON.stringify({ esbuild: esbuildVersion, options, lockfile: fileSha256(join(__dirname, "..", "package-lock.json")) ?? "" }),
        )
        .digest("hex")
        .slice(0, 16);
    const cacheFile = join(cacheDir, `${key}.json`);
    if (existsSync(cacheFile)) {
        const cached = JSON.parse(readFileSync(cacheFile, "utf8")) as CachedBundle;
        if (bundleStillCurrent(cached)) {
            return { path, content: Buffer.from(cached.output, "base64") };
        }
    }
    const result = await build(options);
    const content = Buffer.from(result.outputFiles[0].contents);
    const inputs = Object.fromEntries(
        Object.keys(result.metafile.inputs).map((input) => {
            const file = resolve(options.absWorkingDir, input);
            return [file, fileSha256(file) ?? ""];
        }),
    );
    mkdirSync(cacheDir, { recursive: true });
    const staging = `${cacheFile}.tmp-${process.pid}`;
    writeFileSync(staging, JSON.stringify({ inputs, output: content.toString("base64") } satisfies CachedBundle));
    renameSync(staging, cacheFile);
    return { path, content };
}

/**
 * Writes the files into `directory` unless it exists: it is named by its contents (an id, a hash), so
 * an earlier run wrote the same. Written aside and renamed, so a concurrent run or a crash never
 * leaves half of it.
 */
export function writeContentAddressedDirectory(directory: string, files: readonly ReleaseFile[]): void {
    if (existsSync(directory)) {
        return;
    }
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

/** Writes the tarball aside and renames it, so a concurrent build or a crash never leaves half of one. */
function writeTarball(artifactPath: string, files: readonly ReleaseFile[]): void {
    const staging = `${artifactPath}.tmp-${process.pid}`;
    writeFileSync(staging, releaseTarball(files));
    renameSync(staging, artifactPath);
}

/** `app`; throws an error that names the field and a fix unless it can be built into a release. */
export function checkedAppSource(app: AppSource, exists: (path: string) => boolean = existsSync): AppSource {
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
    return app;
}

/** Builds the release of `options.app` (default: the posts app) into `options.outDir` (default build/) and returns its id and paths. */
export async function buildRelease(options: BuildSettings = {}): Promise<BuiltRelease> {
    const app = checkedAppSource(options.app ?? POSTS_APP);
    const outDir = options.outDir ?? BUILD_DIR;
    const healthPath = app.healthPath ?? DEFAULT_HEALTH_PATH;
    const files = [
        await bundle(app.entry, "server.js", join(outDir, "bundles")),
        await bundle(MIGRATOR_ENTRY, "migrate.js", join(outDir, "bundles")),
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
    writeContentAddressedDirectory(directory, allFiles);
    if (!existsSync(artifactPath)) {
        writeTarball(artifactPath, allFiles);
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
