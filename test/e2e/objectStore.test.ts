import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import * as net from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { backupWriterPolicy } from "../../components/server/backups";
import { createCertificateAuthority } from "../../sandbox/fleet/certificates";
import { startObjectStore, type ObjectStore } from "../../sandbox/objectStore/objectStore";
import { suiteLog } from "../support/sandbox";

const BUCKET = "webstack-backups-sandbox";
const PREFIX = "sandbox-webstack";

async function freeLoopbackPort(): Promise<number> {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as net.AddressInfo;
    await new Promise((resolve) => server.close(resolve));
    return port;
}

describe("the sandbox's S3 with the server role of a stack", function () {
    // Installing moto from PyPI the first time takes about half a minute.
    this.timeout(300_000);
    let directory: string;
    let s3: ObjectStore;

    before(async () => {
        directory = mkdtempSync(join(tmpdir(), "webstack-s3-"));
        const ca = await createCertificateAuthority(join(directory, "ca"), "webstack sandbox test CA");
        s3 = await startObjectStore(
            {
                directory,
                address: "127.0.0.1",
                port: await freeLoopbackPort(),
                region: "eu-central-1",
                bucket: BUCKET,
                roleName: "webstack-server-role",
                rolePolicy: () => backupWriterPolicy(`arn:aws:s3:::${BUCKET}`, PREFIX),
                ca,
            },
            suiteLog,
        );
    });

    after(async () => {
        await s3?.stop();
        rmSync(directory, { recursive: true, force: true });
    });

    const put = (key: string, body: string) => s3.call(s3.role, "put_object", { Bucket: BUCKET, Key: key, Body: body });

    it("lets the role put a backup under its prefix and read it back", async () => {
        const stored = await put(`${PREFIX}/dumps/first.sql.gz`, "first dump");
        expect(stored.result).to.have.property("VersionId").that.is.a("string");
        const read = await s3.call(s3.role, "get_object", { Bucket: BUCKET, Key: `${PREFIX}/dumps/first.sql.gz` });
        expect(read.result?.Body).to.equal("first dump");
        const listed = await s3.call(s3.role, "list_objects_v2", { Bucket: BUCKET, Prefix: `${PREFIX}/` });
        expect((listed.result?.Contents as { Key: string }[]).map((object) => object.Key)).to.include(`${PREFIX}/dumps/first.sql.gz`);
    });

    it("refuses the role a put outside its prefix", async () => {
        expect((await put("another-stack/dumps/x.sql.gz", "x")).error).to.deep.equal({ code: "AccessDenied", status: 403 });
    });

    it("refuses the role every way of deleting a backup, and the backup stays", async () => {
        const key = `${PREFIX}/binlogs/webstack-bin.000001`;
        const { result } = await put(key, "binary log");
        const versionId = result?.VersionId as string;
        const refusals = [
            await s3.call(s3.role, "delete_object", { Bucket: BUCKET, Key: key }),
            await s3.call(s3.role, "delete_object", { Bucket: BUCKET, Key: key, VersionId: versionId }),
        ];
        expect(refusals.map((answer) => answer.error)).to.deep.equal([
            { code: "AccessDenied", status: 403 },
            { code: "AccessDenied", status: 403 },
        ]);
        const batch = await s3.call(s3.role, "delete_objects", {
            Bucket: BUCKET,
            Delete: { Objects: [{ Key: key, VersionId: versionId }] },
        });
        expect(batch.result?.Deleted ?? []).to.deep.equal([]);
        expect((batch.result?.Errors as { Code: string }[]).map((error) => error.Code)).to.deep.equal(["AccessDenied"]);
        const read = await s3.call(s3.role, "get_object", { Bucket: BUCKET, Key: key, VersionId: versionId });
        expect(read.result?.Body).to.equal("binary log");
    });

    it("keeps the older version when the role writes over a backup", async () => {
        const key = `${PREFIX}/dumps/overwritten.sql.gz`;
        const first = await put(key, "the original");
        const second = await put(key, "what an intruder wrote");
        expect(second.result?.VersionId).to.not.equal(first.result?.VersionId);
        const original = await s3.call(s3.role, "get_object", { Bucket: BUCKET, Key: key, VersionId: first.result?.VersionId });
        expect(original.result?.Body).to.equal("the original");
    });

    it("refuses the role any change to the bucket's rules", async () => {
        const answers = [
            await s3.call(s3.role, "put_bucket_lifecycle_configuration", {
                Bucket: BUCKET,
                LifecycleConfiguration: { Rules: [{ ID: "erase", Status: "Enabled", Filter: { Prefix: "" }, Expiration: { Days: 1 } }] },
            }),
            await s3.call(s3.role, "put_bucket_versioning", { Bucket: BUCKET, VersioningConfiguration: { Status: "Suspended" } }),
            await s3.call(s3.role, "delete_bucket", { Bucket: BUCKET }),
        ];
        expect(answers.map((answer) => answer.error?.code)).to.deep.equal(["AccessDenied", "AccessDenied", "AccessDenied"]);
    });

    it("refuses a request signed with a wrong secret", async () => {
        const forged = { ...s3.role, secretAccessKey: "not-the-secret" };
        expect((await s3.call(forged, "get_object", { Bucket: BUCKET, Key: `${PREFIX}/dumps/first.sql.gz` })).error?.status).to.equal(403);
    });

    it("refuses deletes because of the role's policy, not for everyone: the administrator may delete", async () => {
        const key = `${PREFIX}/dumps/admin-deletes.sql.gz`;
        await put(key, "to be deleted by the administrator");
        const deleted = await s3.call(s3.admin, "delete_object", { Bucket: BUCKET, Key: key });
        expect(deleted.error).to.equal(undefined);
    });
});
