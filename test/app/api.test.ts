import { expect } from "chai";
import { query } from "../support/mariadb";
import { request, TEST_RELEASE_ID, useAppOnFreshDatabase } from "./harness";

describe("the HTTP API against a real MariaDB", () => {
    const suite = useAppOnFreshDatabase();
    const url = suite.url;
    const createPost = (author: string, body: string) => request(url("/api/posts"), { body: { author, body } });

    describe("POST /api/posts", () => {
        it("creates a post with trimmed fields and answers 201 with it", async () => {
            const response = await createPost("  Ada  ", "\n Hello, world! \t");

            expect(response.status).to.equal(201);
            expect(response.body).to.have.all.keys("id", "author", "body", "createdAt");
            expect(response.body).to.include({ author: "Ada", body: "Hello, world!" });
            expect(response.body.id).to.be.a("number").above(0);
            expect(new Date(response.body.createdAt).toISOString()).to.equal(response.body.createdAt);
        });

        it("stores exactly what it answered, so GET /api/posts/:id returns the same post", async () => {
            const created = (await createPost("Grace", "Stored as sent")).body;

            const fetched = await request(url(`/api/posts/${created.id}`));

            expect(fetched.status).to.equal(200);
            expect(fetched.body).to.deep.equal(created);
        });

        it("accepts the longest author and body, counting an emoji as one character", async () => {
            const response = await createPost("😀".repeat(64), "b".repeat(2000));

            expect(response.status).to.equal(201);
            expect(response.body.author).to.equal("😀".repeat(64));
        });

        const invalidBodies: { case: string; body: unknown; message: RegExp }[] = [
            { case: "author is missing", body: { body: "x" }, message: /"author" is required/ },
            { case: "body is missing", body: { author: "x" }, message: /"body" is required/ },
            { case: "author is a number", body: { author: 7, body: "x" }, message: /"author" must be a string \(got number\)/ },
            { case: "body is null", body: { author: "x", body: null }, message: /"body" must be a string \(got null\)/ },
            {
                case: "author is only spaces",
                body: { author: "   ", body: "x" },
                message: /"author" must be 1-64 characters after trimming \(got 0\)/,
            },
            {
                case: "author is 65 characters",
                body: { author: "a".repeat(65), body: "x" },
                message: /"author" must be 1-64 characters after trimming \(got 65\)/,
            },
            {
                case: "body is 2001 characters",
                body: { author: "x", body: "b".repeat(2001) },
                message: /"body" must be 1-2000 characters after trimming \(got 2001\)/,
            },
            {
                case: "an unknown field is sent",
                body: { author: "x", body: "y", admin: true },
                message: /unknown field\(s\) "admin"; allowed: author, body/,
            },
            { case: "the body is an array", body: [{ author: "x", body: "y" }], message: /must be a JSON object/ },
            { case: "the body is a JSON string", body: '"just text"', message: /must be a JSON object/ },
        ];
        for (const { case: name, body, message } of invalidBodies) {
            it(`answers 400 invalid_request naming the rule when ${name}`, async () => {
                const response = await request(url("/api/posts"), { body });

                expect(response.status).to.equal(400);
                expect(response.body.error).to.equal("invalid_request");
                expect(response.body.message).to.match(message);
            });
        }

        it("answers 400 invalid_json for a body that is not JSON", async () => {
            const response = await request(url("/api/posts"), { body: '{"author": "x",' });

            expect(response.status).to.equal(400);
            expect(response.body).to.deep.equal({
                error: "invalid_json",
                message: 'The request body is not valid JSON; send an object like {"author": "...", "body": "..."}.',
            });
        });

        it("answers 400 invalid_json for an empty JSON body", async () => {
            const response = await request(url("/api/posts"), { body: "" });

            expect(response.status).to.equal(400);
            expect(response.body.error).to.equal("invalid_json");
            expect(response.body.message).to.match(/body is empty/);
        });

        it("answers 415 in JSON for a body that is not sent as JSON", async () => {
            const response = await request(url("/api/posts"), { body: "author=x", contentType: "application/x-www-form-urlencoded" });

            expect(response.status).to.equal(415);
            expect(response.body.error).to.equal("unsupported_media_type");
        });

        it("answers 413 in JSON for a body over 16 KiB", async () => {
            const response = await request(url("/api/posts"), { body: { author: "x", body: "b".repeat(20_000) } });

            expect(response.status).to.equal(413);
            expect(response.body.error).to.equal("payload_too_large");
        });
    });

    describe("GET /api/posts", () => {
        let ids: number[];

        before(async () => {
            await query(suite.database(), "DELETE FROM posts");
            ids = [];
            for (let index = 1; index <= 5; index += 1) {
                ids.push((await createPost(`author ${index}`, `post ${index}`)).body.id);
            }
        });

        it("lists posts newest first, with no next page when all fit", async () => {
            const response = await request(url("/api/posts"));

            expect(response.status).to.equal(200);
            expect(response.body.posts.map((post: { id: number }) => post.id)).to.deep.equal([...ids].reverse());
            expect(response.body.posts[0]).to.include({ author: "author 5", body: "post 5" });
            expect(response.body.nextBefore).to.equal(null);
        });

        it("pages through every post exactly once with limit and the nextBefore cursor", async () => {
            const seen: number[] = [];
            const pageSizes: number[] = [];
            let path = "/api/posts?limit=2";
            for (;;) {
                const page = (await request(url(path))).body;
                seen.push(...page.posts.map((post: { id: number }) => post.id));
                pageSizes.push(page.posts.length);
                if (page.nextBefore === null) {
                    break;
                }
                expect(page.nextBefore).to.equal(seen[seen.length - 1]);
                path = `/api/posts?limit=2&before=${page.nextBefore}`;
            }

            expect(seen).to.deep.equal([...ids].reverse());
            expect(pageSizes).to.deep.equal([2, 2, 1]);
        });

        it("ends on a full last page without pointing at an empty one", async () => {
            const page = (await request(url(`/api/posts?limit=2&before=${ids[2]}`))).body;

            expect(page.posts.map((post: { id: number }) => post.id)).to.deep.equal([ids[1], ids[0]]);
            expect(page.nextBefore).to.equal(null);
        });

        it("returns 20 posts by default", async () => {
            await query(suite.database(), "INSERT INTO posts (author, body, created_at) SELECT author, body, created_at FROM posts");
            await query(suite.database(), "INSERT INTO posts (author, body, created_at) SELECT author, body, created_at FROM posts");
            await query(suite.database(), "INSERT INTO posts (author, body, created_at) SELECT author, body, created_at FROM posts");

            const page = (await request(url("/api/posts"))).body;

            expect(page.posts).to.have.length(20);
            expect(page.nextBefore).to.equal(page.posts[19].id);
        });

        const invalidQueries: { query: string; message: RegExp }[] = [
            { query: "limit=0", message: /"limit" must be an integer from 1 to 100 \(got "0"\)/ },
            { query: "limit=101", message: /"limit" must be an integer from 1 to 100 \(got "101"\)/ },
            { query: "limit=ten", message: /"limit" must be an integer from 1 to 100/ },
            { query: "limit=2.5", message: /"limit" must be an integer from 1 to 100/ },
            { query: "limit=", message: /"limit" must be an integer from 1 to 100 \(got ""\)/ },
            { query: "before=0", message: /"before" must be a positive integer post id \(got "0"\)/ },
            { query: "before=-3", message: /"before" must be a positive integer post id/ },
            { query: "before=99999999999999999999", message: /"before" must be a positive integer post id/ },
            { query: "limit=1&limit=2", message: /"limit" must be given once/ },
            { query: "page=2", message: /unknown field\(s\) "page"; allowed: limit, before/ },
        ];
        for (const { query: queryString, message } of invalidQueries) {
            it(`answers 400 invalid_request for ?${queryString}`, async () => {
                const response = await request(url(`/api/posts?${queryString}`));

                expect(response.status).to.equal(400);
                expect(response.body.error).to.equal("invalid_request");
                expect(response.body.message).to.match(message);
            });
        }
    });

    describe("GET /api/posts/:id", () => {
        it("answers 404 in JSON for a post that does not exist", async () => {
            const response = await request(url("/api/posts/987654321"));

            expect(response.status).to.equal(404);
            expect(response.body).to.deep.equal({ error: "not_found", message: "Post 987654321 does not exist." });
        });

        for (const id of ["abc", "0", "-1", "1.5", "1e3"]) {
            it(`answers 400 for the id "${id}"`, async () => {
                const response = await request(url(`/api/posts/${id}`));

                expect(response.status).to.equal(400);
                expect(response.body.error).to.equal("invalid_request");
                expect(response.body.message).to.equal(`Post id must be a positive integer (got "${id}").`);
            });
        }
    });

    describe("validators", () => {
        it("tags a read with an ETag that a cache must revalidate, and answers 304 without the body when the tag still holds", async () => {
            await createPost("Tag", "a post to tag");
            const first = await fetch(url("/api/posts"));
            const tag = first.headers.get("etag") ?? "";
            await first.arrayBuffer();
            expect(tag).to.match(/^"[A-Za-z0-9_-]{27}"$/);
            expect(first.headers.get("cache-control")).to.equal("no-cache");

            for (const ifNoneMatch of [tag, `W/${tag}`, `"other", ${tag}`]) {
                const again = await fetch(url("/api/posts"), { headers: { "If-None-Match": ifNoneMatch } });
                expect([again.status, await again.text()], ifNoneMatch).to.deep.equal([304, ""]);
                expect(again.headers.get("etag")).to.equal(tag);
            }
        });

        it("answers in full once the answer changed, with a new tag", async () => {
            const before = await fetch(url("/api/posts"));
            const tag = before.headers.get("etag") ?? "";
            await before.arrayBuffer();
            await createPost("Tag", "a newer post");

            const after = await fetch(url("/api/posts"), { headers: { "If-None-Match": tag } });

            expect(after.status).to.equal(200);
            expect(((await after.json()) as { posts: { body: string }[] }).posts[0].body).to.equal("a newer post");
            expect(after.headers.get("etag")).not.to.equal(tag);
        });

        it("tags no error and no write", async () => {
            const missing = await fetch(url("/api/posts/987654321"));
            const created = await fetch(url("/api/posts"), {
                method: "POST",
                headers: { "content-type": "application/json" },
                body: JSON.stringify({ author: "Tag", body: "untagged" }),
            });

            expect([missing.status, missing.headers.get("etag")]).to.deep.equal([404, null]);
            expect([created.status, created.headers.get("etag")]).to.deep.equal([201, null]);
        });
    });

    describe("service routes", () => {
        it("answers /healthz with ok for the app and its database", async () => {
            const response = await request(url("/healthz"));

            expect(response.status).to.equal(200);
            expect(response.body).to.deep.equal({ status: "ok", database: "ok" });
        });

        it("answers /readyz with ready while the database answers", async () => {
            const response = await request(url("/readyz"));

            expect(response.status).to.equal(200);
            expect(response.body).to.deep.equal({ status: "ready" });
        });

        it("names the release at /api/version", async () => {
            const response = await request(url("/api/version"));

            expect(response.body).to.deep.equal({ release: TEST_RELEASE_ID });
        });

        it("answers unknown routes with 404 in JSON", async () => {
            const response = await request(url("/api/nothing-here"), { method: "DELETE" });

            expect(response.status).to.equal(404);
            expect(response.body).to.deep.equal({ error: "not_found", message: "No route for DELETE /api/nothing-here." });
        });

        for (const [path, status] of [
            ["/healthz", 200],
            ["/api/posts?limit=0", 400],
            ["/missing", 404],
        ] as const) {
            it(`sends X-Release on a ${status} answer (${path})`, async () => {
                const response = await request(url(path));

                expect(response.status).to.equal(status);
                expect(response.headers.get("x-release")).to.equal(TEST_RELEASE_ID);
            });
        }
    });
});
