import { expect } from "chai";
import { IDEMPOTENCY_KEY_TTL_HOURS } from "../../app/src/posts";
import { keyExpiryCutoff, postStore } from "../../app/src/postStore";
import { createPool } from "../../app/src/database";
import { query } from "../support/mariadb";
import { useAppOnFreshDatabase } from "./harness";

interface PostAnswer {
    readonly status: number;
    readonly replayed: string | null;
    // The API's JSON; tests read it field by field.
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    readonly body: any;
}

describe("POST /api/posts with an Idempotency-Key, against a real MariaDB", () => {
    const suite = useAppOnFreshDatabase();
    let keyNumber = 0;
    const newKey = () => `test-key-${Date.now()}-${(keyNumber += 1)}`;

    const post = async (key: string | undefined, content: { author: string; body: string }): Promise<PostAnswer> => {
        const response = await fetch(suite.url("/api/posts"), {
            method: "POST",
            headers: { "content-type": "application/json", ...(key === undefined ? {} : { "idempotency-key": key }) },
            body: JSON.stringify(content),
        });
        return { status: response.status, replayed: response.headers.get("idempotent-replayed"), body: await response.json() };
    };
    const rowsWithBody = async (body: string) =>
        Number((await query<{ count: number }[]>(suite.database(), "SELECT COUNT(*) AS count FROM posts WHERE body = ?", [body]))[0].count);

    it("stores the post once and gives the retry the first answer, marked as replayed", async () => {
        const key = newKey();
        const first = await post(key, { author: "Ada", body: "sent twice" });
        const retry = await post(key, { author: "Ada", body: "sent twice" });

        expect(first.status).to.equal(201);
        expect(first.replayed).to.equal(null);
        expect(retry.status).to.equal(201);
        expect(retry.replayed).to.equal("true");
        expect(retry.body).to.deep.equal(first.body);
        expect(await rowsWithBody("sent twice")).to.equal(1);
    });

    it("stores one post when the same request races itself", async () => {
        const key = newKey();
        const answers = await Promise.all(Array.from({ length: 8 }, () => post(key, { author: "Grace", body: "raced eight times" })));

        expect(answers.map((answer) => answer.status)).to.deep.equal(Array(8).fill(201));
        expect(new Set(answers.map((answer) => answer.body.id)).size).to.equal(1);
        expect(answers.filter((answer) => answer.replayed === null)).to.have.length(1);
        expect(await rowsWithBody("raced eight times")).to.equal(1);
    });

    it("refuses a key reused for different content with 422, storing nothing", async () => {
        const key = newKey();
        await post(key, { author: "Ada", body: "the first content" });

        const reused = await post(key, { author: "Ada", body: "other content" });

        expect(reused.status).to.equal(422);
        expect(reused.body.error).to.equal("idempotency_key_reused");
        expect(reused.body.message).to.contain(key).and.to.contain(`${IDEMPOTENCY_KEY_TTL_HOURS} hours`);
        expect(await rowsWithBody("other content")).to.equal(0);
    });

    it("stores a new post under a key whose retention has passed", async () => {
        const key = newKey();
        const first = await post(key, { author: "Ada", body: "expired key" });
        await query(suite.database(), "UPDATE post_idempotency_keys SET created_at = ? WHERE idempotency_key = ?", [
            new Date(Date.now() - (IDEMPOTENCY_KEY_TTL_HOURS + 1) * 3_600_000),
            key,
        ]);

        const later = await post(key, { author: "Ada", body: "expired key" });

        expect(later.status).to.equal(201);
        expect(later.replayed).to.equal(null);
        expect(later.body.id).not.to.equal(first.body.id);
        expect(await rowsWithBody("expired key")).to.equal(2);
    });

    it("keeps posts without a key independent: the same content twice is two posts", async () => {
        await post(undefined, { author: "Ada", body: "no key" });
        await post(undefined, { author: "Ada", body: "no key" });

        expect(await rowsWithBody("no key")).to.equal(2);
    });

    for (const [name, key] of [
        ["empty", ""],
        ["with a space", "two words"],
        ["129 characters long", "k".repeat(129)],
        ["not ASCII", "schlüssel"],
    ] as const) {
        it(`answers 400 naming the header for a key that is ${name}`, async () => {
            const answer = await post(key, { author: "Ada", body: `bad key ${name}` });

            expect(answer.status).to.equal(400);
            expect(answer.body.error).to.equal("invalid_request");
            expect(answer.body.message).to.match(/^The Idempotency-Key header must be given once, as 1-128 visible ASCII characters/);
        });
    }

    it("forgets expired keys when purged, and only those", async () => {
        const [kept, expired] = [newKey(), newKey()];
        await post(kept, { author: "Ada", body: "kept key" });
        await post(expired, { author: "Ada", body: "purged key" });
        const now = new Date();
        await query(suite.database(), "UPDATE post_idempotency_keys SET created_at = ? WHERE idempotency_key = ?", [
            new Date(keyExpiryCutoff(now).getTime() - 1_000),
            expired,
        ]);
        const pool = createPool(suite.database());
        try {
            expect(await postStore(pool).purgeExpiredKeys(now)).to.equal(1);
        } finally {
            await pool.end();
        }

        const remaining = await query<{ idempotency_key: Buffer }[]>(
            suite.database(),
            "SELECT idempotency_key FROM post_idempotency_keys WHERE idempotency_key IN (?, ?)",
            [kept, expired],
        );
        expect(remaining.map((row) => row.idempotency_key.toString())).to.deep.equal([kept]);
    });
});
