import * as http from "http";
import { answerOutcome, errorOutcome, type LoadTarget, type Outcome } from "./load";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface WriterOptions {
    /** Names this run's posts: each key is `<runId>-<writer>-<post>`, and the posts' author is the run id. */
    readonly runId: string;
    /** A post's body for its key. Defaults to the key itself. */
    readonly body?: (key: string) => string;
    /** Throw away the first 201 of every tenth post, as if it had been lost on its way back. Defaults to true. */
    readonly loseEveryTenthAnswer?: boolean;
    /** When the writers stop by themselves. Defaults to 120 s. */
    readonly maxSeconds?: number;
}

export interface WriteReport {
    /** Posts the writers set out to store, each under its own idempotency key. */
    readonly submissions: number;
    /** Requests sent, first attempts and retries. */
    readonly attempts: number;
    readonly outcomes: Readonly<Record<Outcome, number>>;
    /** Answers the writers threw away as if the connection had dropped on the way back (every tenth post's first 201). */
    readonly lost: number;
    /** Retries answered with the post an earlier attempt had stored (Idempotent-Replayed). */
    readonly replayed: number;
    /** Post id for every body, as the API acknowledged it. */
    readonly acknowledged: ReadonlyMap<string, number>;
    /** When each body was acknowledged (ms since the epoch). */
    readonly acknowledgedAt: ReadonlyMap<string, number>;
    /** Submissions still unacknowledged when their retries ran out. */
    readonly abandoned: number;
}

/**
 * Writers that store posts the way the front end does: each post under a fresh Idempotency-Key,
 * sent again with the same key after a 503 or a lost answer, until it is acknowledged. The first
 * 201 of every tenth post is thrown away, as if the answer had been lost on its way back: the
 * server stored the post, the client does not know. Each writer finishes the post it is on when
 * stopped.
 */
export function startWriters(site: LoadTarget, count: number, options: WriterOptions): { stop(): Promise<WriteReport> } {
    const { runId } = options;
    const bodyOf = options.body ?? ((key: string) => key);
    const outcomes: Record<Outcome, number> = {};
    const acknowledged = new Map<string, number>();
    const acknowledgedAt = new Map<string, number>();
    let submissions = 0;
    let attempts = 0;
    let lost = 0;
    let replayed = 0;
    let abandoned = 0;
    let stopping = false;
    const deadline = Date.now() + (options.maxSeconds ?? 120) * 1000;

    const attempt = (agent: http.Agent, key: string): Promise<{ id?: number; replayed: boolean }> =>
        new Promise((resolve) => {
            const payload = JSON.stringify({ author: runId, body: bodyOf(key) });
            const outgoing = http.request(
                {
                    host: site.address,
                    port: 80,
                    method: "POST",
                    path: "/api/posts",
                    agent,
                    timeout: 5_000,
                    headers: {
                        Host: site.hostName,
                        "Content-Type": "application/json",
                        "Content-Length": Buffer.byteLength(payload),
                        "Idempotency-Key": key,
                    },
                },
                (response) => {
                    const chunks: Buffer[] = [];
                    response.on("data", (chunk: Buffer) => chunks.push(chunk));
                    response.on("end", () => {
                        const outcome = answerOutcome(response.statusCode ?? 0, response.headers);
                        outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
                        const created = response.statusCode === 201;
                        resolve({
                            id: created ? (JSON.parse(Buffer.concat(chunks).toString()) as { id: number }).id : undefined,
                            replayed: response.headers["idempotent-replayed"] === "true",
                        });
                    });
                },
            );
            outgoing.on("timeout", () => outgoing.destroy(Object.assign(new Error("timed out"), { code: "ETIMEDOUT" })));
            outgoing.on("error", (error: NodeJS.ErrnoException) => {
                const outcome = errorOutcome(error);
                outcomes[outcome] = (outcomes[outcome] ?? 0) + 1;
                resolve({ replayed: false });
            });
            outgoing.end(payload);
        });

    const writer = async (index: number) => {
        const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
        for (let post = 0; !stopping && Date.now() < deadline; post += 1) {
            const key = `${runId}-${index}-${post}`;
            submissions += 1;
            let answer: { id?: number; replayed: boolean } = { replayed: false };
            let loseNextAnswer = (options.loseEveryTenthAnswer ?? true) && post % 10 === 0;
            for (let tries = 0; answer.id === undefined && tries < 200 && Date.now() < deadline; tries += 1) {
                if (tries > 0) {
                    await sleep(100);
                }
                attempts += 1;
                answer = await attempt(agent, key);
                if (loseNextAnswer && answer.id !== undefined) {
                    loseNextAnswer = false;
                    lost += 1;
                    answer = { replayed: false };
                }
            }
            if (answer.id === undefined) {
                abandoned += 1;
            } else {
                acknowledged.set(bodyOf(key), answer.id);
                acknowledgedAt.set(bodyOf(key), Date.now());
                replayed += answer.replayed ? 1 : 0;
            }
        }
        agent.destroy();
    };
    const writers = Promise.all(Array.from({ length: count }, (_, index) => writer(index)));
    return {
        async stop() {
            stopping = true;
            await writers;
            return { submissions, attempts, outcomes, lost, replayed, acknowledged, acknowledgedAt, abandoned };
        },
    };
}
