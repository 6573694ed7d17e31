import { expect } from "chai";
import { builtinModules } from "node:module";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { build } from "esbuild";
import { parse } from "yaml";
import { POSTS_APP } from "../../../app/postsApp";

const REPOSITORY = join(__dirname, "..", "..", "..");
const manifest = JSON.parse(readFileSync(join(REPOSITORY, "package.json"), "utf8")) as { dependencies: Record<string, string> };

/** The packages `entry` imports, itself or through the repository's files: their names, without Node's own modules. */
async function packagesImportedBy(entry: string): Promise<string[]> {
    const result = await build({
        entryPoints: [entry],
        bundle: true,
        platform: "node",
        packages: "external",
        write: false,
        metafile: true,
        logLevel: "error",
        outdir: "unused",
    });
    const specifiers = Object.values(result.metafile.inputs).flatMap((input) =>
        input.imports.filter((imported) => imported.external).map((imported) => imported.path),
    );
    const packageName = (specifier: string) =>
        specifier
            .split("/")
            .slice(0, specifier.startsWith("@") ? 2 : 1)
            .join("/");
    return [
        ...new Set(
            specifiers
                .filter((specifier) => !specifier.startsWith(".") && !specifier.startsWith("node:") && !builtinModules.includes(specifier))
                .map(packageName),
        ),
    ].sort();
}

describe("the program's dependencies", function () {
    this.timeout(30_000);

    it("declares every package the program imports as a dependency, so that npm ci --omit=dev can run pulumi up", async () => {
        const imported = await packagesImportedBy(join(REPOSITORY, "index.ts"));
        expect(imported).to.include.members(["@pulumi/pulumi", "esbuild", "tar"]);
        expect(imported.filter((name) => manifest.dependencies[name] === undefined)).to.deep.equal([]);
    });

    it("declares the packages the default app's release bundles, since pulumi up builds the release", async () => {
        const imported = await packagesImportedBy(POSTS_APP.entry);
        expect(imported).to.include("fastify");
        expect(imported.filter((name) => manifest.dependencies[name] === undefined)).to.deep.equal([]);
    });

    it("declares TypeScript, which the Pulumi runtime compiles the program with (Pulumi.yaml's typescript option)", () => {
        const project = parse(readFileSync(join(REPOSITORY, "Pulumi.yaml"), "utf8")) as { runtime: { options: { typescript: boolean } } };
        expect(project.runtime.options.typescript).to.equal(true);
        expect(manifest.dependencies).to.have.property("typescript");
    });
});
