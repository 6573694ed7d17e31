import { expect } from "chai";
import {
    cpuPerRequest,
    describeCpu,
    describeLoggedFailures,
    loggedFailures,
    medianRound,
    parseStatusCounts,
    parseWrk,
    renderTable,
    verdict,
} from "../../../bench/measure";

const REPORT = `Running 10s test @ http://127.0.0.1/app.css
  2 threads and 32 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   812.42us    1.02ms  28.13ms   93.35%
    Req/Sec    20.11k     1.91k   24.33k    71.50%
  Latency Distribution
     50%  560.00us
     75%    0.89ms
     90%    1.48ms
     99%    5.21ms
  400229 requests in 10.00s, 1.23GB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 7
Requests/sec:  40012.34
Transfer/sec:    125.83MB
`;

describe("parseWrk", () => {
    it("reads requests, rate, median and 99th percentile in milliseconds, errors and non-2xx answers", () => {
        expect(parseWrk(REPORT)).to.deep.equal({
            requests: 400229,
            requestsPerSecond: 40012.34,
            p50: 0.56,
            p99: 5.21,
            non2xx: 7,
            socketErrors: 3,
        });
    });

    it("counts no errors when wrk reports none, and refuses a report without latencies", () => {
        const clean = REPORT.replace(/^ {2}Socket errors.*\n/m, "").replace(/^ {2}Non-2xx.*\n/m, "");
        expect(parseWrk(clean)).to.include({ non2xx: 0, socketErrors: 0 });
        expect(() => parseWrk(clean.replace(/ {5}50%.*\n/, ""))).to.throw(/50% latency \(run it with --latency\)/);
    });
});

describe("verdict and renderTable", () => {
    it("judges a ratio to the baseline or a bound on the value", () => {
        expect(verdict({ name: "static", value: 38, unit: "k/s", baseline: 40, target: { kind: "ratio-at-least", bound: 0.95 } })).to.equal(
            "PASS",
        );
        expect(verdict({ name: "static", value: 30, unit: "k/s", baseline: 40, target: { kind: "ratio-at-least", bound: 0.95 } })).to.equal(
            "FAIL",
        );
        expect(verdict({ name: "rss", value: 460, unit: "MiB", target: { kind: "at-most", bound: 450 } })).to.equal("FAIL");
        expect(verdict({ name: "idle", value: 1, unit: "s" })).to.equal("-");
    });

    it("shows each figure with its baseline, ratio, target, verdict and detail, counts without decimals", () => {
        const table = renderTable([
            { name: "static file", value: 38000, unit: "req/s", baseline: 40000, target: { kind: "ratio-at-least", bound: 0.95 } },
            { name: "deploy: failed requests", value: 0, unit: "", target: { kind: "at-most", bound: 0 }, detail: "120000 requests" },
        ]);
        expect(table.split("\n").slice(2)).to.deep.equal([
            "| static file | 38000.0 req/s | 40000.0 req/s | 0.95× | ≥ 0.95× | PASS |  |",
            "| deploy: failed requests | 0 |  |  | ≤ 0 | PASS | 120000 requests |",
        ]);
    });
});

describe("medianRound", () => {
    it("picks the round with the median ratio, whatever their order", () => {
        const rounds = [
            { value: 90, baseline: 100, name: "high" },
            { value: 60, baseline: 100, name: "low" },
            { value: 160, baseline: 200, name: "middle" },
        ];
        expect(medianRound(rounds).name).to.equal("middle");
    });

    it("takes the lower of the two middle rounds for an even count", () => {
        expect(
            medianRound([
                { value: 9, baseline: 10 },
                { value: 7, baseline: 10 },
                { value: 8, baseline: 10 },
                { value: 1, baseline: 10 },
            ]).value,
        ).to.equal(7);
    });

    it("refuses no rounds at all", () => {
        expect(() => medianRound([])).to.throw(/at least one round/);
    });
});

describe("parseWrk with latencies of a second or more", () => {
    it("reads a latency wrk pads with a trailing space after a one-letter unit", () => {
        const slow = REPORT.replace(/ {5}50%.*\n/, "     50%    1.20s \n").replace(/ {5}99%.*\n/, "     99%    2.56s \n");
        expect(parseWrk(slow)).to.include({ p50: 1200, p99: 2560 });
    });
});

describe("parseStatusCounts", () => {
    it("reads the counting script's status lines, a 503 with Retry-After apart, and ignores the rest of the report", () => {
        const report = `${REPORT}status 200 9120\nstatus 503+retry-after 41\nstatus 500 2\n`;
        expect(parseStatusCounts(report)).to.deep.equal({ "200": 9120, "503+retry-after": 41, "500": 2 });
        expect(parseStatusCounts(REPORT)).to.deep.equal({});
    });
});

describe("cpuPerRequest and describeCpu", () => {
    it("gives each process's CPU per request in microseconds between two readings, and their sum", () => {
        const profile = cpuPerRequest({ nginx: 10, node: 20 }, { nginx: 10.6, node: 22.1, mariadbd: 0.3 }, 10_000);
        expect(profile.byProcess.nginx).to.be.closeTo(60, 1e-6);
        expect(profile.byProcess.node).to.be.closeTo(210, 1e-6);
        expect(profile.byProcess.mariadbd).to.be.closeTo(30, 1e-6);
        expect(profile.total).to.be.closeTo(300, 1e-6);
    });

    it("describes a profile costliest first", () => {
        expect(describeCpu({ nginx: 60.4, node: 210, mariadbd: 30 })).to.equal("node 210 µs, nginx 60 µs, mariadbd 30 µs");
    });
});

describe("loggedFailures and describeLoggedFailures", () => {
    const log = [
        '127.0.0.1 - - [07/Dec/2026:19:40:01 +0000] "GET /api/posts?limit=20 HTTP/1.1" 200 512 "-" "wrk"',
        '127.0.0.1 - - [07/Dec/2026:19:40:02 +0000] "GET /api/posts?limit=20 HTTP/1.1" 502 157 "-" "wrk"',
        '127.0.0.1 - - [07/Dec/2026:19:40:02 +0000] "GET / HTTP/1.1" 304 0 "-" "wrk"',
        '127.0.0.1 - - [07/Dec/2026:19:40:03 +0000] "POST /api/posts HTTP/1.1" 503 41 "-" "wrk"',
        "",
    ].join("\n");

    it("keeps the 4xx and 5xx requests of a combined-format log, with their time and request line, in order", () => {
        expect(loggedFailures(log)).to.deep.equal([
            { time: "07/Dec/2026:19:40:02 +0000", status: 502, request: "GET /api/posts?limit=20 HTTP/1.1" },
            { time: "07/Dec/2026:19:40:03 +0000", status: 503, request: "POST /api/posts HTTP/1.1" },
        ]);
    });

    it("says each one's status, time and request, or none", () => {
        expect(describeLoggedFailures(loggedFailures(log))).to.equal(
            "502 at 07/Dec/2026:19:40:02 +0000 (GET /api/posts?limit=20 HTTP/1.1); 503 at 07/Dec/2026:19:40:03 +0000 (POST /api/posts HTTP/1.1)",
        );
        expect(describeLoggedFailures([])).to.equal("none");
    });
});
