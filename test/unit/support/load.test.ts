import { expect } from "chai";
import * as net from "net";
import { errorOutcome, startLoad } from "../../support/load";

/** A TCP server that closes the connections `closes` picks before answering, and answers the rest with a 200. */
async function flakyServer(closes: (connection: number) => boolean): Promise<{ port: number; close(): Promise<void> }> {
    let connections = 0;
    const server = net.createServer((socket) => {
        const connection = ++connections;
        socket.once("data", () => {
            if (closes(connection)) {
                socket.destroy();
            } else {
                socket.end("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
            }
        });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return {
        port: (server.address() as net.AddressInfo).port,
        close: () => new Promise((resolve) => server.close(() => resolve())),
    };
}

describe("startLoad", () => {
    it("sends a GET again, once, on a new connection when the server closes its connection before answering", async () => {
        const server = await flakyServer((connection) => connection === 1);
        try {
            const report = await startLoad(
                { address: "127.0.0.1", port: server.port, hostName: "www.example.com" },
                { paths: ["/"], concurrency: 1, maxRequests: 1 },
            ).stop();
            expect(report).to.include({ sent: 1, failed: 0, retriedOnClosedConnection: 1 });
        } finally {
            await server.close();
        }
    });

    it("fails a GET whose retry is closed too, and says so", async () => {
        const server = await flakyServer(() => true);
        try {
            const report = await startLoad(
                { address: "127.0.0.1", port: server.port, hostName: "www.example.com" },
                { paths: ["/"], concurrency: 1, maxRequests: 1 },
            ).stop();
            expect(report).to.include({ sent: 1, failed: 1, retriedOnClosedConnection: 1 });
            expect(report.failures).to.have.length(1);
            expect(report.failures[0]).to.match(/^\/: socket hang up \(on the retry\) \(sent at \d\d:\d\d:\d\d\.\d UTC\)$/);
        } finally {
            await server.close();
        }
    });
});

describe("errorOutcome", () => {
    it("names a refused connection, an unreachable host and a timeout apart", () => {
        const outcome = (code: string) => errorOutcome(Object.assign(new Error(code), { code }));
        expect(["ECONNREFUSED", "EHOSTUNREACH", "ETIMEDOUT", "EINVAL"].map(outcome)).to.deep.equal([
            "refused",
            "unreachable",
            "timeout",
            "error",
        ]);
    });
});
