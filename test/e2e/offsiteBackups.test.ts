import { expect } from "chai";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Stack } from "@pulumi/pulumi/automation";
import {
    APP_DATABASE,
    AWS_CLI_CONFIG_FILE,
    BACKUP_COMMAND,
    BACKUP_DIR,
    BACKUP_STATE_DIR,
    MARIADB_DATA_DIR,
    REPORT_METRICS_TIMER,
    REPORT_METRICS_UNIT,
    RESTORE_COMMAND,
    REBOOT_REQUIRED_FILE,
    SERVER_METRICS,
    SHIP_BACKUPS_COMMAND,
    SHIP_BACKUPS_TIMER,
    VERIFY_BACKUPS_TIMER,
    VERIFY_BACKUPS_UNIT,
} from "../../provisioning/layout";
import { wwwHostName } from "../../provisioning/site";
import { SANDBOX_STACK, sandboxObjectStore } from "../../sandbox/objectStore/aws";
import { existingServerConfig, openEngineStack, requireEngineBinDir, sandboxServer, setStackConfig } from "../../sandbox/executors/engine";
import type { ObjectStore } from "../../sandbox/objectStore/objectStore";
import { request, waitUntil } from "../support/http";
import { startSandbox, type TestSandbox } from "../support/sandbox";
import { loseServerUnderWriters, postBodies as postBodiesOn } from "../support/serverLoss";

const SANDBOX_NAME = "e2e-offsite";
/** How long the writers write before the server is lost: longer than the RPO the test holds the stack to. */
const WRITING_SECONDS = 75;
const RPO_TARGET_SECONDS = 60;
/** Text a careless dump, log or replay would mangle. */
const AWKWARD = `quotes ' " \\ newline\n tab\t emoji 😀 漢字`;

/** The timer ships every half minute; an upload takes a second or two. */
const SHIPPING_SECONDS = 40;

describe("backups that leave the server", function () {
    this.timeout(900_000);
    let server: TestSandbox;
    let s3: ObjectStore;
    let timelinePrefix: string;
    /** The operator's stack: this program in existing-server mode, run by the real engine. */
    let stack: Stack;
    let stateDir: string;
    /** The baseline of the RTO: `pulumi up` of a new, empty server with nothing to restore. */
    let emptyServerUpSeconds: number;
    const site = () => ({ address: server.address, hostName: wwwHostName(server.domain) });

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
        expect((await request(site(), "POST", "/api/posts", { author: "offsite", body })).status).to.equal(201);
    };
    /** `pulumi up` through the real engine, in seconds until the site answers; throws with the engine's error when it fails. */
    const pulumiUp = async (): Promise<number> => {
        const startedAt = Date.now();
        await stack.up();
        await waitUntil("the site answers", 60, async () => (await request(site(), "GET", "/api/posts?limit=1")).status === 200);
        return (Date.now() - startedAt) / 1000;
    };

    before(async () => {
        requireEngineBinDir();
        server = await startSandbox(SANDBOX_NAME, { image: "packages" });
        s3 = sandboxObjectStore(SANDBOX_NAME) as ObjectStore;
        stateDir = mkdtempSync(join(tmpdir(), "webstack-offsite-"));
        stack = await openEngineStack({
            stateDir,
            stackName: SANDBOX_STACK,
            passphrase: "offsite-test-passphrase",
            config: existingServerConfig(sandboxServer(server.sandbox)),
        });
        emptyServerUpSeconds = await pulumiUp();
        const target = server.sandbox.backupBucket;
        timelinePrefix = `${target?.prefix}/${(await server.exec(`cat ${BACKUP_STATE_DIR}/timeline`)).trim()}`;
    });

    after(async () => {
        await server?.destroy();
        if (stateDir !== undefined) {
            rmSync(stateDir, { recursive: true, force: true });
        }
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

    const postBodies = () => postBodiesOn(server.ssh);
    const verifiedAt = async () => (await server.exec(`cat ${BACKUP_STATE_DIR}/verified-at 2>/dev/null || true`)).trim();
    /** Runs the nightly verification as its timer does, and what it logged. */
    const verifyAsTheTimerDoes = async (): Promise<{ succeeded: boolean; log: string }> => {
        const cursor = (await server.exec("journalctl -n 0 --show-cursor -q | sed -n 's/^-- cursor: //p'")).trim();
        const succeeded = (await server.exec(`systemctl start ${VERIFY_BACKUPS_UNIT} && echo succeeded || true`)).includes("succeeded");
        const log = await server.exec(`journalctl -u ${VERIFY_BACKUPS_UNIT} --after-cursor='${cursor}' -o cat --no-pager`);
        return { succeeded, log };
    };

    it("proves every night that the bucket's newest backup restores, from the bucket alone: loaded into a scratch database, checked, dropped", async () => {
        await post("proven by the nightly restore");
        // A dump with no write after it, on a server nobody writes to: its binary log never needs shipping.
        const written = (await server.exec(BACKUP_COMMAND)).trim().replace(/^backup written: /, "");
        const key = `dumps/${written.split("/").pop()}`;
        await waitUntil("the dump in the bucket", SHIPPING_SECONDS, async () => (await shippedKeys()).includes(key));
        expect(await server.exec(`systemctl is-enabled ${VERIFY_BACKUPS_TIMER}`)).to.match(/^enabled/);

        const aside = "/root/dumps-aside";
        await server.exec(`mkdir -p ${aside} && mv ${BACKUP_DIR}/*.sql.gz ${aside}/`);
        const startedAt = Math.floor(Date.now() / 1000);
        const { succeeded, log } = await verifyAsTheTimerDoes().finally(() => server.exec(`mv ${aside}/*.sql.gz ${BACKUP_DIR}/`));
        expect(succeeded, log).to.equal(true);
        const posts = (await postBodies()).length;
        expect(log).to.match(
            new RegExp(
                `verified: \\S+/${key.replace(/\./g, "\\.")} and \\d+ binary log\\(s\\) from s3://\\S+ restore into a scratch database: \\d+ tables check OK, ${posts} posts`,
            ),
        );
        expect(Number(await verifiedAt())).to.be.at.least(startedAt);
        expect(await server.exec("mariadb --batch --skip-column-names -e 'SHOW DATABASES'")).to.not.contain(`${APP_DATABASE}_verify`);
    });

    it("does not count a corrupt backup in the bucket as verified: the verification fails, and the last success stays recorded", async () => {
        const before = await verifiedAt();
        const corruptKey = `${timelinePrefix}/dumps/${APP_DATABASE}-${new Date().toISOString().replace(/[-:]/g, "").slice(0, 15)}Z.sql.gz`;
        await s3.call(s3.admin, "put_object", { Bucket: s3.bucket, Key: corruptKey, Body: "not a gzip file" });
        const { succeeded, log } = await verifyAsTheTimerDoes().finally(() =>
            s3.call(s3.admin, "delete_object", { Bucket: s3.bucket, Key: corruptKey }),
        );
        expect(succeeded).to.equal(false);
        expect(log).to.match(/is not a complete gzip file; pick another one\. Nothing was changed/);
        expect(await verifiedAt()).to.equal(before);
    });

    it("reports to CloudWatch, as its role, how old the last verified restore and the last shipping are, how full the disk is, and how long a reboot has been pending", async () => {
        const sentAfter = new Date(Date.now() - 60_000).toISOString();
        expect(await server.exec(`systemctl is-enabled ${REPORT_METRICS_TIMER}`)).to.match(/^enabled/);
        // As an update leaves it, two minutes ago: the reboot it asks for is not this test's.
        await server.exec(`touch -d '-120 seconds' ${REBOOT_REQUIRED_FILE}`);
        await server.exec(`systemctl start ${REPORT_METRICS_UNIT}; rm -f ${REBOOT_REQUIRED_FILE}`);
        const latest = async (metricName: string): Promise<number | undefined> => {
            const answer = await s3.call(
                s3.admin,
                "get_metric_statistics",
                {
                    Namespace: SERVER_METRICS.namespace,
                    MetricName: metricName,
                    Dimensions: [{ Name: SERVER_METRICS.dimension, Value: server.sandbox.backupBucket?.prefix }],
                    StartTime: sentAfter,
                    EndTime: new Date(Date.now() + 60_000).toISOString(),
                    Period: 60,
                    Statistics: ["Maximum"],
                },
                "cloudwatch",
            );
            const points = (answer.result?.Datapoints ?? []) as { Maximum: number }[];
            return points.length === 0 ? undefined : Math.max(...points.map((point) => point.Maximum));
        };
        expect(await latest(SERVER_METRICS.secondsSinceVerifiedRestore)).to.be.within(0, 600);
        expect(await latest(SERVER_METRICS.secondsSinceBackupsShipped)).to.be.within(0, 60);
        expect(await latest(SERVER_METRICS.rootDiskUsedPercent)).to.be.within(1, 100);
        expect(await latest(SERVER_METRICS.secondsRebootPending)).to.be.within(120, 600);
    });
    /** What webstack-restore printed, on both streams, and how it ended. */
    const restore = (args: string) => server.exec(`${RESTORE_COMMAND} ${args} 2>&1 && echo succeeded || echo "failed: $?"`);
    const utcSeconds = (date: Date) => date.toISOString().slice(0, 19).replace("T", " ");

    it("restores to a second between two writes: exactly the posts before it, saying how many and where it stopped", async () => {
        await post("written before the point");
        // The binary log counts seconds: the point is the first second after the first write's.
        const writtenAt = Math.floor(Date.now() / 1000);
        await new Promise((resolve) => setTimeout(resolve, (writtenAt + 1) * 1000 - Date.now() + 50));
        const point = new Date((writtenAt + 1) * 1000);
        await new Promise((resolve) => setTimeout(resolve, 1100));
        await post("written after the point");
        const expected = (await postBodies()).filter((body) => body !== "written after the point");

        const output = await restore(`--until '${utcSeconds(point)}'`);
        expect(output).to.match(new RegExp(`restored ${APP_DATABASE} from .*: ${expected.length} posts`));
        expect(output).to.match(/stopped at webstack-bin\.\d{6} at \d+, the last write of \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);
        expect(await postBodies()).to.deep.equal(expected);
    });

    it("refuses, changing nothing, a time in the future, a time before the oldest dump, an unreachable bucket and a corrupt dump", async () => {
        const before = await postBodies();
        const future = await restore(`--until '${utcSeconds(new Date(Date.now() + 3_600_000))}'`);
        expect(future).to.match(/is in the future .* nothing was changed/);
        const ancient = await restore("--until '2001-01-01 00:00:00'");
        expect(ancient).to.match(
            /no dump was taken at or before 2001-01-01 00:00:00 UTC \(the oldest is webstack-\d{8}T\d{6}Z\.sql\.gz\); nothing was changed/,
        );
        expect(await restore("--until 'yesterday at teatime'")).to.match(/is not a time; give one in UTC/);

        // An endpoint in the test range that no test host takes: the host refuses it at once.
        const config = await server.exec(`cat ${AWS_CLI_CONFIG_FILE}`);
        await server.exec(`printf 'endpoint_url = https://198.19.0.2\\n' >>${AWS_CLI_CONFIG_FILE}`);
        const unreachable = await restore(`--until '${utcSeconds(new Date())}'`);
        await server.exec(`printf '%s' '${config}' >${AWS_CLI_CONFIG_FILE}`);
        expect(unreachable).to.match(/the backup bucket s3:\/\/\S+ cannot be read .*nothing was changed/);

        const corrupt = `${BACKUP_DIR}/${APP_DATABASE}-${new Date().toISOString().replace(/[-:]/g, "").slice(0, 15)}Z.sql.gz`;
        await server.exec(`head -c 100 /dev/urandom >${corrupt}`);
        const broken = await restore(`--until '${utcSeconds(new Date())}'`).finally(() => server.exec(`rm -f ${corrupt}`));
        expect(broken).to.match(/is not a complete gzip file; pick another one\. Nothing was changed/);
        expect(await postBodies()).to.deep.equal(before);
    });

    it("goes on in a new timeline, overwriting no log in the bucket, when its disk goes back in time", async () => {
        const snapshot = "/root/snapshot";
        const saveDisk = `systemctl stop ${SHIP_BACKUPS_TIMER} mariadb && mkdir -p ${snapshot} && cp -a ${MARIADB_DATA_DIR} ${BACKUP_STATE_DIR} ${snapshot}/ && systemctl start mariadb`;
        const rewindDisk = `systemctl stop mariadb && rm -rf ${MARIADB_DATA_DIR} ${BACKUP_STATE_DIR} && cp -a ${snapshot}/mysql ${MARIADB_DATA_DIR} && cp -a ${snapshot}/backups ${BACKUP_STATE_DIR} && systemctl start mariadb`;
        await server.exec(saveDisk);
        const timeline = (await server.exec(`cat ${BACKUP_STATE_DIR}/timeline`)).trim();
        await post("written after the snapshot");
        await server.exec(SHIP_BACKUPS_COMMAND);
        await server.exec(rewindDisk);
        await post("written on the disk that went back in time");

        const output = await server.exec(`${SHIP_BACKUPS_COMMAND} 2>&1`);
        await server.exec(`systemctl start ${SHIP_BACKUPS_TIMER} && rm -rf ${snapshot}`);
        expect(output).to.match(/this disk went back in time, so its history goes on in a new timeline/);
        expect(output).to.match(/new backup timeline \S+, from webstack-bin\.\d{6}/);
        const prefix = `${server.sandbox.backupBucket?.prefix}/${timeline}/`;
        const versions = await s3.call(s3.admin, "list_object_versions", { Bucket: s3.bucket, Prefix: prefix });
        const keys = ((versions.result?.Versions ?? []) as { Key: string }[]).map((version) => version.Key);
        expect(keys.length).to.be.greaterThan(0);
        expect(keys, "one version of each log: none was written over").to.deep.equal([...new Set(keys)]);
    });

    it("comes back by itself on a new, empty server: pulumi up restores the bucket's backups before the app serves", async () => {
        const loss = await loseServerUnderWriters({
            sandboxName: SANDBOX_NAME,
            site: site(),
            writers: 4,
            writingSeconds: WRITING_SECONDS,
            body: (key) => `${key} ${AWKWARD}`,
            // The operator's one command: pulumi up, with the new server's host key in the stack's config.
            bringBack: async (newServer) => {
                await setStackConfig(stack, existingServerConfig(sandboxServer(newServer)));
                await stack.up();
            },
        });
        console.log(
            `      » ${loss.written} posts written (${loss.postsPerSecond.toFixed(0)} a second), server lost: ${loss.lost} lost, the oldest written ${loss.rpoSeconds.toFixed(1)} s before the loss (RPO); serving the restored posts ${loss.rtoSeconds.toFixed(1)} s after pulumi up started on the new server (RTO), against ${emptyServerUpSeconds.toFixed(1)} s for pulumi up of a new empty server`,
        );
        expect(loss.postsPerSecond).to.be.at.least(50);
        expect(loss.rpoSeconds).to.be.at.most(RPO_TARGET_SECONDS);
        expect(loss.written - loss.lost, "every post acknowledged more than a minute before the loss is back").to.be.greaterThan(0);
        expect(loss.mangled, "every restored post byte for byte as it was sent").to.equal(0);
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
