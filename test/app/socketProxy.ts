/**
 * A unix-socket proxy in front of MariaDB's socket, so a test can take "the database" away from one
 * app without touching the shared server: refuse connections (the socket is gone), hang them
 * (accepted, never answered), or forward them again.
 */
import { createConnection, createServer, type Server, type Socket } from "node:net";
import { rmSync } from "node:fs";

export type ProxyMode = "forward" | "refuse" | "hang";

export class SocketProxy {
    private server: Server | undefined;
    private readonly sockets = new Set<Socket>();
    private mode: ProxyMode = "refuse";

    constructor(
        /** The real server's socket. */
        private readonly target: string,
        /** Where the proxy listens; give this to the app as its database socket. */
        readonly path: string,
    ) {}

    async forward(): Promise<void> {
        await this.switchTo("forward");
    }

    async hang(): Promise<void> {
        await this.switchTo("hang");
    }

    /** Stops listening and cuts every connection, like a database that went away. */
    async refuse(): Promise<void> {
        await this.switchTo("refuse");
    }

    private async switchTo(mode: ProxyMode): Promise<void> {
        this.mode = mode;
        this.dropConnections();
        if (mode === "refuse") {
            await this.stopListening();
        } else if (this.server === undefined) {
            await this.listen();
        }
    }

    private track(socket: Socket): Socket {
        this.sockets.add(socket);
        socket.on("close", () => this.sockets.delete(socket));
        socket.on("error", () => socket.destroy());
        return socket;
    }

    private dropConnections(): void {
        this.sockets.forEach((socket) => socket.destroy());
        this.sockets.clear();
    }

    private listen(): Promise<void> {
        rmSync(this.path, { force: true });
        const server = createServer((client) => {
            this.track(client);
            if (this.mode === "forward") {
                const upstream = this.track(createConnection(this.target));
                client.pipe(upstream).pipe(client);
                upstream.on("close", () => client.destroy());
                client.on("close", () => upstream.destroy());
            }
        });
        this.server = server;
        return new Promise((resolve, reject) => {
            server.once("error", reject);
            server.listen(this.path, () => resolve());
        });
    }

    private async stopListening(): Promise<void> {
        const server = this.server;
        this.server = undefined;
        if (server !== undefined) {
            await new Promise<void>((resolve) => server.close(() => resolve()));
        }
        rmSync(this.path, { force: true });
    }
}
