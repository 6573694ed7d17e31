import { expect } from "chai";
import * as http from "http";
import { buildRelease } from "../../release/build";
import type { Release } from "../../provisioning";
import { DEFAULT_API_CACHE_SECONDS, RECENT_WRITER_COOKIE, recentWriterSeconds } from "../../provisioning/files/nginx";
import { appInstanceUnit, appPorts, NGINX_SITE_FILE } from "../../provisioning/layout";
import { nginxSiteStep } from "../../provisioning/steps/nginx";
import { figure } from "../support/figure";
import { pastTheCacheTime, request, waitUntil, type HttpAnswer } from "../support/http";
import type { LoadTarget } from "../support/load";
import { provisionSandbox, type TestSandbox } from "../support/sandbox";

const SANDBOX_NAME = "e2e-api-cache";
const APP_INSTANCES = 2;
const PARALLEL_MISSES = 200;

describe("nginx's micro-cache of the API on a sandbox server (end to end)", function () {
    this.timeout(15 * 60_000);

    let sandbox: TestSandbox;
    let site: LoadTarget;
    let release: Release;
    const onServer = (command: string): Promise<string> => sandbox.exec(command);
    const instances = appPorts(APP_INSTANCES).map(appInstanceUnit).join(" ");
    /** A path no earlier test asked for, so that its first answer is a miss. */
    let keys = 0;
    const freshListPath = () => `/api/posts?limit=${++keys}`;
    const cacheStatus = (answer: HttpAnswer) => answer.headers["x-cache-status"];

    before(async () => {
        release = await buildRelease();
        sandbox = await provisionSandbox(SANDBOX_NAME, { appInstances: APP_INSTANCES, release });
        site = { address: sandbox.address, hostName: `www.${sandbox.domain}` };
        expect((await request(site, "POST", "/api/posts", { author: "cache", body: "a post to list" })).status).to.equal(201);
    });

    after(async () => {
        await sandbox?.destroy();
    });

    it("answers a second anonymous read of the list, a post and the release from the cache, the same answer, with no cookie", async () => {
        for (const path of [freshListPath(), "/api/posts/1", "/api/version"]) {
            const first = await request(site, "GET", path);
            const second = await request(site, "GET", path);
            expect([first.status, cacheStatus(first)], path).to.deep.equal([200, "MISS"]);
            expect([second.status, cacheStatus(second)], path).to.deep.equal([200, "HIT"]);
            expect(second.body).to.equal(first.body);
            expect(second.headers["set-cookie"], path).to.equal(undefined);
        }
    });

    it("sends one request per key to the app when 200 readers miss at once", async () => {
        const path = freshListPath();
        const agent = new http.Agent({ keepAlive: true, maxSockets: PARALLEL_MISSES });
        const started = Date.now();
        const answers = await Promise.all(
            Array.from(
                { length: PARALLEL_MISSES },
                () =>
                    new Promise<{ status: number; cache: string }>((resolve, reject) => {
                        http.get({ host: site.address, path, agent, headers: { Host: site.hostName } }, (response) => {
                            response.resume();
                            response.on("end", () =>
                                resolve({ status: response.statusCode ?? 0, cache: String(response.headers["x-cache-status"]) }),
                            );
                        }).on("error", reject);
                    }),
            ),
        );
        const seconds = (Date.now() - started) / 1000;
        agent.destroy();
        const counts: Record<string, number> = {};
        answers.forEach((answer) => (counts[answer.cache] = (counts[answer.cache] ?? 0) + 1));
        // A burst longer than the cache's time may refresh the answer once per period, never more.
        const toTheApp = (counts.MISS ?? 0) + (counts.EXPIRED ?? 0);
        figure(`${PARALLEL_MISSES} parallel reads of one new key in ${seconds.toFixed(2)} s: ${JSON.stringify(counts)}`);
        expect(answers.every((answer) => answer.status === 200)).to.equal(true);
        expect(counts.MISS).to.equal(1);
        expect(toTheApp).to.be.at.most(1 + Math.floor(seconds / DEFAULT_API_CACHE_SECONDS));
    });

    it("never keeps an error: a post that does not exist yet, or the list while the database is down", async () => {
        for (let attempt = 0; attempt < 2; attempt++) {
            const missing = await request(site, "GET", "/api/posts/999999");
            expect([missing.status, cacheStatus(missing)]).to.deep.equal([404, "MISS"]);
        }
        const path = freshListPath();
        await onServer("systemctl stop mariadb");
        try {
            for (let attempt = 0; attempt < 2; attempt++) {
                const down = await request(site, "GET", path);
                expect([down.status, cacheStatus(down)]).to.deep.equal([503, "MISS"]);
            }
        } finally {
            await onServer("systemctl start mariadb");
            await waitUntil("the list answers again", 60, async () => (await request(site, "GET", path)).status === 200);
        }
    });

    it("serves the last list, marked STALE, while every app instance is stopped, and a fresh one once they are back", async () => {
        const path = freshListPath();
        const kept = await request(site, "GET", path);
        await onServer(`systemctl stop ${instances}`);
        try {
            await pastTheCacheTime();
            const stale = await request(site, "GET", path);
            expect([stale.status, cacheStatus(stale)]).to.deep.equal([200, "STALE"]);
            expect(stale.body).to.equal(kept.body);
            expect((await request(site, "GET", "/api/version")).status, "the release is never told stale on an error").to.equal(503);
        } finally {
            await onServer(`systemctl start ${instances}`);
            await waitUntil("a fresh answer", 60, async () =>
                ["EXPIRED", "MISS"].includes(String(cacheStatus(await request(site, "GET", path)))),
            );
        }
    });

    it("answers a reader with a cookie or credentials from the app, and keeps not its answer for anyone", async () => {
        const personalHeaders: Record<string, string>[] = [{ Cookie: "session=abc" }, { Authorization: "Bearer token" }];
        for (const headers of personalHeaders) {
            const path = freshListPath();
            const personal = await request(site, "GET", path, undefined, headers);
            expect([personal.status, cacheStatus(personal)]).to.deep.equal([200, "BYPASS"]);
            expect(cacheStatus(await request(site, "GET", path)), "the personal answer was kept").to.equal("MISS");
        }
    });

    it("lets a writer read its own post at once, every time, past the list other readers are served from the cache", async () => {
        let othersServedOlder = 0;
        for (let round = 0; round < 20; round++) {
            await request(site, "GET", "/api/posts");
            const created = await request(site, "POST", "/api/posts", { author: "writer", body: `round ${round}` });
            const cookie = String(created.headers["set-cookie"]).split(";")[0];
            const own = await request(site, "GET", "/api/posts", undefined, { Cookie: cookie });
            const others = await request(site, "GET", "/api/posts");

            expect(created.status).to.equal(201);
            expect(cookie).to.equal(`${RECENT_WRITER_COOKIE}=1`);
            expect(cacheStatus(own)).to.equal("BYPASS");
            expect(JSON.parse(own.body).posts[0]).to.deep.equal(JSON.parse(created.body));
            othersServedOlder += JSON.parse(others.body).posts[0].id === JSON.parse(created.body).id ? 0 : 1;
        }
        figure(
            `20 writes each read back at once by the writer; another reader was served the list from before the write ${othersServedOlder} times`,
        );
    });

    it("gives the writer's cookie a lifetime past the cache's time, and sets it on a write's 201 alone", async () => {
        const created = await request(site, "POST", "/api/posts", { author: "writer", body: "cookie" });
        expect(created.headers["set-cookie"]).to.deep.equal([
            `${RECENT_WRITER_COOKIE}=1; Max-Age=${recentWriterSeconds(DEFAULT_API_CACHE_SECONDS)}; Path=/api/; HttpOnly; SameSite=Lax`,
        ]);
        const refused = await request(site, "POST", "/api/posts", { author: "" });
        expect([refused.status, refused.headers["set-cookie"]]).to.deep.equal([400, undefined]);
    });

    it("answers a conditional read with 304 from the cache, the answer tagged and marked for revalidation, gzipped or not", async () => {
        const path = freshListPath();
        const plain = await request(site, "GET", path);
        const tag = String(plain.headers.etag);
        expect(plain.headers["cache-control"]).to.equal("no-cache");
        expect(tag).to.match(/^"[A-Za-z0-9_-]+"$/);

        const revalidated = await request(site, "GET", path, undefined, { "If-None-Match": tag });
        expect([revalidated.status, revalidated.body, cacheStatus(revalidated)]).to.deep.equal([304, "", "HIT"]);
        const gzipped = await request(site, "GET", path, undefined, { "Accept-Encoding": "gzip" });
        expect(gzipped.headers["content-encoding"]).to.equal("gzip");
        const gzipTag = String(gzipped.headers.etag);
        expect(gzipTag).to.equal(`W/${tag}`);
        const gzipRevalidated = await request(site, "GET", path, undefined, { "If-None-Match": gzipTag, "Accept-Encoding": "gzip" });
        expect(gzipRevalidated.status).to.equal(304);
    });

    it("keeps nothing when its time is 0: no cache in the site, no answer says what the cache did, and the app answers a conditional read", async () => {
        await sandbox.apply([nginxSiteStep({ appInstances: APP_INSTANCES, apiCacheSeconds: 0, tls: false, includeApex: false })], {
            quiet: true,
        });
        expect(await onServer(`grep -c proxy_cache ${NGINX_SITE_FILE} || true`)).to.equal("0\n");
        const path = freshListPath();
        const answers = [await request(site, "GET", path), await request(site, "GET", path)];
        expect(answers.map((answer) => [answer.status, cacheStatus(answer)])).to.deep.equal([
            [200, undefined],
            [200, undefined],
        ]);
        const revalidated = await request(site, "GET", path, undefined, { "If-None-Match": String(answers[0].headers.etag) });
        expect([revalidated.status, revalidated.headers["x-release"]]).to.deep.equal([304, release.id]);
    });
});
