import { expect } from "chai";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize } from "node:path";
import { parseStackConfig, ConfigError } from "../../../config/stackConfig";
import { referenceRow, SETTING_KEYS } from "../../../config/settings";
import { buildPlan } from "../../../provisioning";

const REPO_ROOT = join(__dirname, "..", "..", "..");
const README = readFileSync(join(REPO_ROOT, "README.md"), "utf8");
const MAX_README_LINES = 450;

/** The keys the program reads, as its own error for an unknown key lists them. */
function programConfigKeys(): string[] {
    try {
        parseStackConfig({ "webstack:noSuchKey": "x" }, false);
    } catch (error) {
        if (error instanceof ConfigError) {
            const listed = error.problems
                .map((problem) => /the settings are: (.*)\.$/.exec(problem)?.[1])
                .find((list) => list !== undefined);
            if (listed !== undefined) {
                return listed.split(", ");
            }
        }
        throw error;
    }
    throw new Error("The program took an unknown config key.");
}

/** The text of the README's section under `heading`, up to the next heading of any level. */
function section(heading: string): string {
    const start = README.indexOf(`${heading}\n`);
    expect(start, heading).to.be.at.least(0);
    const rest = README.slice(start + heading.length);
    const end = rest.search(/\n#{1,6} /);
    return end === -1 ? rest : rest.slice(0, end);
}

/** A slug as GitHub makes one from a heading. */
function slug(heading: string): string {
    return heading
        .trim()
        .toLowerCase()
        .replace(/[^\w\- ]/g, "")
        .replace(/ /g, "-");
}

function headingsOf(markdown: string): string[] {
    let inCode = false;
    return markdown.split("\n").flatMap((line) => {
        if (line.startsWith("```")) {
            inCode = !inCode;
        }
        const heading = /^#+ (.*)$/.exec(line);
        return heading !== null && !inCode ? [slug(heading[1])] : [];
    });
}

describe("the README", () => {
    it(`is at most ${MAX_README_LINES} lines: every other topic has its own page`, () => {
        expect(README.split("\n").length).to.be.at.most(MAX_README_LINES);
    });

    it("documents every config key the program reads in its configuration reference, and no other", () => {
        const documented = [...section("### Configuration reference").matchAll(/^\| `(\w+)` \|/gm)].map((row) => row[1]);
        expect([...documented].sort()).to.deep.equal(programConfigKeys().sort());
    });

    it("gives each setting's row as the settings' description has it (config/settings.ts), in its order", () => {
        const rows = section("### Configuration reference")
            .split("\n")
            .filter((line) => line.startsWith("| `"));
        expect(rows).to.deep.equal(SETTING_KEYS.map(referenceRow));
    });

    it("names every plan step, in the plan's order, in its plan paragraph", () => {
        const paragraph = /\*\*The plan\*\*, in order:([\s\S]*?)\n\n/.exec(README)?.[1] ?? "";
        const named = [...paragraph.matchAll(/`([a-z]+(?:-[a-z]+)*)`/g)].map((match) => match[1]);
        const plan = buildPlan({
            release: { id: "0123456789ab", artifactPath: __filename, healthPath: "/healthz" },
            tls: { email: "ops@example.com", directoryUrl: "https://acme-v02.api.letsencrypt.org/directory" },
            sshAccess: { user: "admin" },
        });
        expect(named).to.deep.equal(plan.map((step) => step.name));
    });

    it("runs only npm scripts that exist, and names every script but npm's own hooks", () => {
        const scripts = Object.keys(
            (JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts,
        );
        const named = new Set(
            [...README.matchAll(/\bnpm\s+(?:run\s+)?([\w:-]+)/g)].map((match) => match[1]).filter((name) => name !== "ci"),
        );
        expect(
            [...named].filter((name) => !scripts.includes(name)),
            "named but missing",
        ).to.deep.equal([]);
        expect(
            scripts.filter((name) => !name.startsWith("pre") && !named.has(name)),
            "missing from the README",
        ).to.deep.equal([]);
    });

    it("links only to files and headings that exist, from every page of the docs", () => {
        const pages = ["README.md", "app/README.md", "policy/README.md", ...readdirDocs()];
        const broken = pages.flatMap((page) => {
            const text = readFileSync(join(REPO_ROOT, page), "utf8");
            return [...text.matchAll(/\]\(([^)\s]+)\)/g)]
                .map((match) => match[1])
                .filter((link) => !/^(https?:|mailto:)/.test(link))
                .filter((link) => {
                    const [path, anchor] = link.split("#");
                    const target = path === "" ? page : normalize(join(dirname(page), path));
                    if (!existsSync(join(REPO_ROOT, target))) {
                        return true;
                    }
                    return (
                        anchor !== undefined &&
                        target.endsWith(".md") &&
                        !headingsOf(readFileSync(join(REPO_ROOT, target), "utf8")).includes(anchor)
                    );
                })
                .map((link) => `${page}: ${link}`);
        });
        expect(broken).to.deep.equal([]);
    });
});

function readdirDocs(): string[] {
    return readdirSync(join(REPO_ROOT, "docs"))
        .filter((file) => file.endsWith(".md"))
        .map((file) => `docs/${file}`);
}
