import { expect } from "chai";
import { spawn } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { gzipSync } from "zlib";
import {
    PLAN_INDEX_KEY,
    planObjects,
    renderFirstBootScript,
    renderFirstBootUserData,
    renderPlanIndex,
    USER_DATA_MAX_BYTES,
    type FirstBootSettings,
    type StoredPlanObject,
} from "../../../components/fleet/firstBoot";
import { buildPlan, type Plan } from "../../../provisioning";
import { startAwsStandIn, versionEntry } from "../../support/awsStandIn";
import { shellcheck, temporaryDirectory } from "../../support/shell";

const SETTINGS: FirstBootSettings = {
    region: "eu-central-1",
    bucket: "webstack-fleet-releases",
    indexVersionId: "3sL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY+MTRCxf3vjVBH40Nr8X8gdRQBpUMLUo",
    indexSha256: "abc",
};

const sha256 = (content: string | Buffer) => createHash("sha256").update(content).digest("hex");

/** The first-boot script that the user data writes, decoded. */
function scriptInUserData(userData: string): string {
    const encoded = /^ {4}content: (\S+)$/m.exec(userData)?.[1] ?? "";
    return Buffer.from(encoded, "base64").toString("utf8");
}

describe("planObjects and renderPlanIndex", () => {
    let directory: string;
    let plan: Plan;

    before(() => {
        directory = temporaryDirectory("plan-objects");
        fs.writeFileSync(path.join(directory, "release.tar.gz"), "release bytes");
        plan = [
            { kind: "run", name: "first", script: "echo first" },
            {
                kind: "upload",
                name: "upload-release",
                localPath: path.join(directory, "release.tar.gz"),
                remotePath: "/var/lib/webstack/uploads/release.tar.gz",
            },
            { kind: "run", name: "site", script: { input: "domain", render: (domain) => `echo ${domain}` } },
        ];
    });

    after(() => fs.rmSync(directory, { recursive: true, force: true }));

    it("keeps the plan's order, names each object by its step and hashes its content", () => {
        const objects = planObjects(plan, { domain: "example.com" });
        expect(objects.map((object) => object.step)).to.deep.equal(["first", "upload-release", "site"]);
        expect(objects[0]).to.include({
            kind: "run",
            content: "echo first",
            sha256: sha256("echo first"),
            key: "plan/first",
        });
        expect(objects[1]).to.include({
            kind: "upload",
            sha256: sha256("release bytes"),
            remotePath: "/var/lib/webstack/uploads/release.tar.gz",
        });
    });

    it("renders a template step with the inputs, so a new domain is a new version of the same object", () => {
        const [, , one] = planObjects(plan, { domain: "example.com" });
        const [, , other] = planObjects(plan, { domain: "example.org" });
        expect(one.content).to.equal("echo example.com");
        expect(other.key).to.equal(one.key);
        expect(other.sha256).to.not.equal(one.sha256);
    });

    it("pins each step's version in the index, one line per step, an upload with its path", () => {
        const objects = planObjects(plan, { domain: "example.com" }).map((object, at) => ({ ...object, versionId: `v${at}` }));
        expect(renderPlanIndex(objects).split("\n")).to.deep.equal([
            `run first plan/first v0 ${objects[0].sha256}`,
            `upload upload-release plan/upload-release v1 ${objects[1].sha256} /var/lib/webstack/uploads/release.tar.gz`,
            `run site plan/site v2 ${objects[2].sha256}`,
            "",
        ]);
    });

    it("refuses an object without a version, which a bucket without versioning gives", () => {
        const [first] = planObjects(plan, { domain: "example.com" });
        expect(() => renderPlanIndex([{ ...first, versionId: "" }])).to.throw(/plan\/first has no version .*versioning enabled/);
    });
});

describe("renderFirstBootUserData", () => {
    const userData = renderFirstBootUserData(SETTINGS);

    it("is cloud-config that writes the first-boot script as root's alone and runs it once", () => {
        expect(userData.startsWith("#cloud-config\n")).to.equal(true);
        expect(userData).to.match(/^ {2}- path: \/usr\/local\/sbin\/webstack-first-boot$/m);
        expect(userData).to.match(/^ {4}permissions: "0700"$/m);
        expect(userData).to.match(/^runcmd:\n {2}- \[\/usr\/local\/sbin\/webstack-first-boot\]$/m);
    });

    it("carries a script that passes shellcheck, reaching AWS's own S3 and metadata endpoints for the index it names", () => {
        const script = scriptInUserData(userData);
        expect(shellcheck(script)).to.equal("");
        expect(script).to.include("export S3_ENDPOINT='https://webstack-fleet-releases.s3.eu-central-1.amazonaws.com'");
        expect(script).to.include("export IMDS_ENDPOINT='http://169.254.169.254'");
        expect(script).to.include("export INDEX_KEY='plan/index'");
        expect(script).to.include(`export INDEX_VERSION_ID='${SETTINGS.indexVersionId}'`);
        expect(script).to.include("export INDEX_SHA256='abc'");
    });

    it("fits EC2's 16 KiB, whatever the plan (the plan's steps are not in it)", () => {
        expect(Buffer.byteLength(userData)).to.be.below(USER_DATA_MAX_BYTES / 2);
    });

    it("leaves a whole plan's scripts out: they are over EC2's limit even compressed", () => {
        const release = { id: "r1", artifactPath: "/dev/null", healthPath: "/healthz" };
        const scripts = planObjects(
            buildPlan({ release }).filter((step) => step.kind === "run"),
            { domain: "example.com" },
        ).map((object) => object.content ?? "");
        expect(gzipSync(scripts.join("")).length).to.be.above(USER_DATA_MAX_BYTES);
    });
});

function runScript(script: string): Promise<{ status: number | null; stderr: string }> {
    return new Promise((resolve) => {
        const child = spawn("bash", ["-c", script], { stdio: ["ignore", "ignore", "pipe"] });
        let stderr = "";
        child.stderr.on("data", (chunk) => (stderr += chunk));
        child.on("close", (status) => resolve({ status, stderr }));
    });
}

describe("the first-boot script, against stand-ins for S3 and the metadata service", () => {
    let directory: string;

    beforeEach(() => {
        directory = temporaryDirectory("first-boot");
        fs.writeFileSync(path.join(directory, "release.tar.gz"), "release bytes");
    });

    afterEach(() => fs.rmSync(directory, { recursive: true, force: true }));

    /** Publishes the plan's objects (after `tamper`) and its index, then runs the first boot against them. */
    async function firstBoot(
        plan: Plan,
        tamper: (objects: Map<string, Buffer>, stored: StoredPlanObject[]) => void = () => undefined,
        roleMissingFor = 0,
    ) {
        // Version ids as S3 makes them, with characters a URL must encode.
        const stored = planObjects(plan, { domain: "example.com" }).map((object, at) => ({ ...object, versionId: `${at}+v/${at}=` }));
        const objects = new Map(
            stored.map((object) => [
                versionEntry(object.key, object.versionId),
                object.content !== undefined ? Buffer.from(object.content) : fs.readFileSync(object.localPath ?? ""),
            ]),
        );
        const index = renderPlanIndex(stored);
        objects.set(versionEntry(PLAN_INDEX_KEY, SETTINGS.indexVersionId), Buffer.from(index));
        tamper(objects, stored);
        const standIn = await startAwsStandIn({ objects, roleMissingFor });
        try {
            const script = renderFirstBootScript(
                { ...SETTINGS, indexSha256: sha256(index) },
                { s3: standIn.url, imds: standIn.url, workDir: path.join(directory, "work") },
            );
            return { ...(await runScript(script)), requests: standIn.requests };
        } finally {
            standIn.close();
        }
    }

    const log = () => path.join(directory, "log");
    const appending = (name: string, line: string): Plan[number] => ({ kind: "run", name, script: `echo ${line} >> ${log()}` });

    it("applies every step in order: the upload to its path, each script once", async () => {
        const uploaded = path.join(directory, "uploads", "release.tar.gz");
        const result = await firstBoot([
            appending("one", "one"),
            { kind: "upload", name: "upload-release", localPath: path.join(directory, "release.tar.gz"), remotePath: uploaded },
            { kind: "run", name: "two", script: `cat ${uploaded} >> ${log()}` },
        ]);
        expect(result.stderr).to.include("webstack first boot: every step applied");
        expect(result.status).to.equal(0);
        expect(fs.readFileSync(log(), "utf8")).to.equal("one\nrelease bytes");
    });

    it("waits for the instance profile while the metadata service answers 404 for the role, as in a new instance's first seconds", async () => {
        const result = await firstBoot([appending("one", "one")], undefined, 2);
        expect(result.status, result.stderr).to.equal(0);
        expect(fs.readFileSync(log(), "utf8")).to.equal("one\n");
    });

    it("signs every S3 request with the instance role's credentials and session token", async () => {
        const result = await firstBoot([appending("one", "one")]);
        expect(result.requests).to.have.length(2);
        for (const { headers } of result.requests) {
            expect(headers.authorization).to.match(/^AWS4-HMAC-SHA256 Credential=AKIDSTANDIN\/\d{8}\/eu-central-1\/s3\/aws4_request/);
            expect(headers["x-amz-security-token"]).to.equal("session-token");
        }
    });

    it("fetches the versions its index pins, whatever was put since: a rollback boots the earlier plan", async () => {
        const result = await firstBoot([appending("one", "one")], (objects, stored) => {
            objects.set(versionEntry(stored[0].key, "a-newer-version"), Buffer.from(`echo newer >> ${log()}`));
        });
        expect(result.status, result.stderr).to.equal(0);
        expect(fs.readFileSync(log(), "utf8")).to.equal("one\n");
    });

    it("stops at an object whose content is not what the plan hashed, naming it, and runs nothing after", async () => {
        const result = await firstBoot([appending("one", "one"), appending("two", "two")], (objects, stored) => {
            objects.set(versionEntry(stored[1].key, stored[1].versionId), Buffer.from("echo tampered >> /dev/null"));
        });
        expect(result.status).to.not.equal(0);
        expect(result.stderr).to.include("plan/two (version 1+v/1=) does not have the SHA-256 the plan gave it");
        expect(fs.readFileSync(log(), "utf8")).to.equal("one\n");
    });

    it("stops at the first step that fails, saying so, and runs nothing after", async () => {
        const result = await firstBoot([
            appending("one", "one"),
            { kind: "run", name: "broken", script: "exit 3" },
            appending("three", "three"),
        ]);
        expect(result.status).to.not.equal(0);
        expect(result.stderr).to.include("running broken");
        expect(result.stderr).to.include("failed (above)");
        expect(fs.readFileSync(log(), "utf8")).to.equal("one\n");
    });
});
