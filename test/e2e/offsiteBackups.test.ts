import { expect } from "chai";
import { createHash } from "node:crypto";
import { buildRelease } from "../../release/build";
import { BACKUP_COMMAND, BACKUP_STATE_DIR, MARIADB_DATA_DIR } from "../../provisioning/layout";
import { wwwHostName } from "../../provisioning/site";
import { sandboxObjectStore } from "../../sandbox/aws";
import type { ObjectStore } from "../../sandbox/objectStore/objectStore";
import { request, waitUntil } from "../support/http";
import { provisionSandbox, type TestSandbox } from "../support/sandbox";

const SANDBOX_NAME = "e2e-offsite";
/** The timer ships every half minute; an upload takes a second or two. */
const SHIPPING_SECONDS = 40;

describe("backups that leave the server", function () {
    this.timeout(900_000);
    let server: TestSandbox;
    let s3: ObjectStore;
    let timelinePrefix: string;

    /** The keys under the server's timeline, as the bucket's administrator lists them. */
    const shippedKeys = async (): Promise<string[]> => {
        const listed = await s3.call(s3.admin, "list_objects_v2", { Bucket: s3.bucket, Prefix: `${timelinePrefix}/` });
        return ((listed.result?.Contents ?? []) as { Key: string }[]).map((object) => object.Key.slice(timelinePrefix.length + 1));
    };
    const shippedSha256 = async (key: string): Promise<string> => {
        const object = await s3.call(s3.admin, "get_object", { Bucket: s3.bucket, Key: `${timelinePrefix}/${key}` });
        return createHash("sha256")
            .update(Buffer.from(object.result?.BodyBase64 as string, "base64"))
            .digest("hex");
    };
    const serverSha256 = async (path: string): Promise<string> => (await server.exec(`sha256sum ${path}`)).split(" ")[0];
    const post = async (body: string) => {
        const site = { address: server.address, hostName: wwwHostName(server.domain) };
        expect((await request(site, "POST", "/api/posts", { author: "offsite", body })).status).to.equal(201);
    };

    before(async () => {
        server = await provisionSandbox(SANDBOX_NAME, { release: await buildRelease() });
        s3 = sandboxObjectStore(SANDBOX_NAME) as ObjectStore;
        const target = server.sandbox.backupBucket;
        timelinePrefix = `${target?.prefix}/${(await server.exec(`cat ${BACKUP_STATE_DIR}/timeline`)).trim()}`;
    });

    after(async () => {
        await server?.destroy();
    });

    it("ships a post's binary log to the bucket within 40 seconds of the write, byte for byte", async () => {
        await post("a post that must not stay only on the server");
        const before = new Set(await shippedKeys());
        const seconds = await waitUntil("a new binary log in the bucket", SHIPPING_SECONDS, async () =>
            (await shippedKeys()).some((key) => key.startsWith("binlogs/") && !before.has(key)),
        );
        console.log(`      binary log in the bucket ${seconds.toFixed(1)} s after the write`);
        const key = (await shippedKeys())
            .filter((name) => name.startsWith("binlogs/") && !before.has(name))
            .sort()
            .pop() as string;
        expect(await shippedSha256(key)).to.equal(await serverSha256(`${MARIADB_DATA_DIR}/${key.slice("binlogs/".length)}`));
        const events = await server.exec(
            `mariadb-binlog --base64-output=decode-rows --verbose ${MARIADB_DATA_DIR}/${key.slice("binlogs/".length)}`,
        );
        expect(events).to.contain("a post that must not stay only on the server");
    });

    it("ships every dump, byte for byte", async () => {
        const written = (await server.exec(BACKUP_COMMAND)).trim().replace(/^backup written: /, "");
        const key = `dumps/${written.split("/").pop()}`;
        await waitUntil("the dump in the bucket", SHIPPING_SECONDS, async () => (await shippedKeys()).includes(key));
        expect(await shippedSha256(key)).to.equal(await serverSha256(written));
    });

    it("sends nothing while nobody writes", async () => {
        const before = await shippedKeys();
        await new Promise((resolve) => setTimeout(resolve, SHIPPING_SECONDS * 1000));
        expect(await shippedKeys()).to.deep.equal(before);
    });

    it("cannot erase what it shipped, from the server itself: S3 refuses its role", async () => {
        const [key] = await shippedKeys();
        const { bucket, region } = server.sandbox.backupBucket as { bucket: string; region: string };
        const attempt = await server.exec(
            `AWS_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt AWS_CONFIG_FILE=/etc/webstack/aws-cli.conf aws s3 rm --region ${region} s3://${bucket}/${timelinePrefix}/${key} 2>&1 || true`,
        );
        expect(attempt).to.match(/AccessDenied/);
        expect(await shippedKeys()).to.include(key);
    });
});
