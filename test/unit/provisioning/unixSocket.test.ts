import { expect } from "chai";
import { spawn, type ChildProcess } from "child_process";
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import { renderPreload } from "../../../provisioning/files/systemd";
import { UNIX_SOCKET_PRELOAD } from "../../../provisioning/layout";
import { freePort, temporaryDirectory } from "../../support/shell";

/**
 * The unix-socket preload, loaded for real into node as the app's unit loads it, in front of a
 * Fastify app like the posts app: it listens on 127.0.0.1:PORT, and answers /slow after a while.
 */
const APP = `
const app = require("fastify")({ trustProxy: "127.0.0.1" });
app.get("/who", async () => ({ pid: process.pid }));
app.get("/client", async (request) => ({ ip: request.ip }));
app.get("/slow", async () => { await new Promise((resolve) => setTimeout(resolve, 500)); return { slow: true }; });
const other = require("http").createServer((request, response) => response.end("other")).listen(0, "127.0.0.1");
app.listen({ port: Number(process.env.PORT), host: "127.0.0.1" }).then(() => console.log("listening"));
process.on("SIGTERM", () => { other.close(); app.close().then(() => process.exit(0)); });
`;

/** GET `urlPath` through the unix socket at `socketPath`; the status and body. */
function getThroughSocket(
    socketPath: string,
    urlPath: string,
    headers: Record<string, string> = {},
): Promise<{ status: number; body: string }> {
    return new Promise((resolve, reject) => {
        http.get({ socketPath, path: urlPath, agent: false, headers }, (response) => {
            let body = "";
            response.on("data", (chunk: Buffer) => (body += chunk.toString()));
            response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
        }).on("error", reject);
    });
}

function getOnPort(port: number, urlPath: string): Promise<string> {
    return new Promise((resolve, reject) => {
        http.get({ host: "127.0.0.1", port, path: urlPath, agent: false }, (response) => {
            let body = "";
            response.on("data", (chunk: Buffer) => (body += chunk.toString()));
            response.on("end", () => resolve(body));
        }).on("error", reject);
    });
}

describe("the unix-socket preload", function () {
    this.timeout(20_000);
    const directory = temporaryDirectory("webstack-unix-socket");
    const preload = path.join(directory, "unix-socket.cjs");
    const program = path.join(directory, "app.js");
    const socketPath = path.join(directory, "3001.sock");
    let running: ChildProcess | undefined;

    before(() => {
        fs.writeFileSync(preload, renderPreload(UNIX_SOCKET_PRELOAD));
        fs.writeFileSync(program, APP);
    });

    afterEach(() => {
        running?.kill("SIGKILL");
        running = undefined;
        fs.rmSync(socketPath, { force: true });
    });

    after(() => {
        fs.rmSync(directory, { recursive: true, force: true });
    });

    /** Starts the app with the preload; resolves once the app said it listens, with what it wrote to stderr so far. */
    function start(
        env: Record<string, string | undefined>,
    ): Promise<{ child: ChildProcess; exit: Promise<{ code: number | null; stderr: string }> }> {
        const child = spawn(process.execPath, ["--require", preload, program], {
            cwd: path.join(__dirname, "../../.."),
            env: { PATH: process.env.PATH, NODE_PATH: path.join(__dirname, "../../../node_modules"), ...env },
        });
        running = child;
        let stderr = "";
        child.stderr?.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
        const exit = new Promise<{ code: number | null; stderr: string }>((resolve) =>
            child.on("exit", (code) => resolve({ code, stderr })),
        );
        return new Promise((resolve) => {
            child.stdout?.on("data", (chunk: Buffer) => {
                if (chunk.toString().includes("listening")) {
                    resolve({ child, exit });
                }
            });
            child.on("exit", () => resolve({ child, exit }));
        });
    }

    it("serves the app's own server on WEBSTACK_APP_SOCKET as on its port, open to other users", async () => {
        const port = await freePort();
        const { child } = await start({ PORT: String(port), WEBSTACK_APP_SOCKET: socketPath });

        const throughSocket = await getThroughSocket(socketPath, "/who");
        expect(throughSocket).to.deep.equal({ status: 200, body: JSON.stringify({ pid: child.pid }) });
        expect(await getOnPort(port, "/who")).to.equal(throughSocket.body);
        expect(fs.statSync(socketPath).mode & 0o002, "writable by others").to.equal(0o002);
    });

    it("presents its connections as nginx's loopback connections were, so that an app trusting its proxy at 127.0.0.1 still finds the client", async () => {
        const port = await freePort();
        await start({ PORT: String(port), WEBSTACK_APP_SOCKET: socketPath });

        const answer = await getThroughSocket(socketPath, "/client", { "X-Forwarded-For": "203.0.113.7" });

        expect(answer.body).to.equal(JSON.stringify({ ip: "203.0.113.7" }));
    });

    it("replaces a socket file left by a predecessor that was killed", async () => {
        const port = await freePort();
        const { child: killed } = await start({ PORT: String(port), WEBSTACK_APP_SOCKET: socketPath });
        killed.kill("SIGKILL");
        await new Promise((resolve) => killed.on("exit", resolve));
        expect(fs.existsSync(socketPath)).to.equal(true);

        const { child } = await start({ PORT: String(port), WEBSTACK_APP_SOCKET: socketPath });

        expect((await getThroughSocket(socketPath, "/who")).body).to.equal(JSON.stringify({ pid: child.pid }));
    });

    it("stops taking connections when the app closes its server, and finishes the request in flight", async () => {
        const port = await freePort();
        const { child, exit } = await start({ PORT: String(port), WEBSTACK_APP_SOCKET: socketPath });
        const inFlight = getThroughSocket(socketPath, "/slow");
        await new Promise((resolve) => setTimeout(resolve, 100));

        child.kill("SIGTERM");
        await new Promise((resolve) => setTimeout(resolve, 100));
        const refused = await getThroughSocket(socketPath, "/who").then(
            () => "answered",
            (error: NodeJS.ErrnoException) => error.code,
        );

        expect(await inFlight).to.deep.equal({ status: 200, body: JSON.stringify({ slow: true }) });
        expect(refused).to.be.oneOf(["ENOENT", "ECONNREFUSED"]);
        expect((await exit).code).to.equal(0);
    });

    it("opens nothing without WEBSTACK_APP_SOCKET", async () => {
        const port = await freePort();
        await start({ PORT: String(port) });

        expect(await getOnPort(port, "/who")).to.contain("pid");
        expect(fs.readdirSync(directory).filter((name) => name.endsWith(".sock"))).to.deep.equal([]);
    });

    it("exits naming the socket when it cannot listen there, so that the instance is not taken for healthy", async () => {
        const port = await freePort();
        const unreachable = path.join(directory, "missing", "3001.sock");
        const { exit } = await start({ PORT: String(port), WEBSTACK_APP_SOCKET: unreachable });

        const { code, stderr } = await exit;
        expect(code).to.equal(1);
        expect(stderr).to.contain(`webstack: cannot listen on ${unreachable}`);
    });
});
