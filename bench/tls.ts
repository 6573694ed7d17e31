/**
 * New TLS connections per second to a site, with full handshakes or with resumed sessions: a few
 * clients in a loop, each connection closed as soon as its handshake is done, so the figure is the
 * handshake's cost alone.
 */
import * as tls from "node:tls";

export interface HandshakeTarget {
    readonly address: string;
    /** Sent as SNI: the site's name. */
    readonly serverName: string;
    /** The root the site's certificate chains to (PEM). */
    readonly trustedCaPem: string;
}

export interface HandshakeRate {
    readonly connectionsPerSecond: number;
    readonly connections: number;
    /** How many of them resumed a session. */
    readonly resumed: number;
}

/** How long a resuming client waits for TLS 1.3's session ticket, which follows the handshake. */
const TICKET_WAIT_MS = 500;

function handshake(
    target: HandshakeTarget,
    options: { keepSession: boolean; session?: Buffer },
): Promise<{ session: Buffer | undefined; resumed: boolean }> {
    return new Promise((resolve, reject) => {
        let received: Buffer | undefined;
        let resumed = false;
        const socket = tls.connect({
            host: target.address,
            port: 443,
            servername: target.serverName,
            ca: target.trustedCaPem,
            session: options.session,
            ALPNProtocols: ["http/1.1"],
        });
        socket.once("session", (ticket: Buffer) => {
            received = ticket;
            socket.end();
        });
        socket.once("secureConnect", () => {
            // Known once the handshake is done; a closed socket no longer says.
            resumed = socket.isSessionReused();
            if (!options.keepSession) {
                socket.end();
            } else if (socket.getProtocol() !== "TLSv1.3") {
                received = socket.getSession();
                socket.end();
            } else {
                setTimeout(() => socket.end(), TICKET_WAIT_MS).unref();
            }
        });
        socket.once("error", reject);
        socket.once("close", () => resolve({ session: received ?? options.session, resumed }));
        socket.setTimeout(5_000, () => socket.destroy(new Error("TLS handshake timed out after 5 s")));
    });
}

/** Connections per second over `seconds`, from `clients` clients, each resuming its own session when `resume` is set. */
export async function handshakeRate(
    target: HandshakeTarget,
    options: { seconds: number; clients: number; resume: boolean },
): Promise<HandshakeRate> {
    const deadline = Date.now() + options.seconds * 1000;
    let connections = 0;
    let resumed = 0;
    const client = async () => {
        // The first handshake of a resuming client is a full one that gets it a session; it is not counted.
        let session = options.resume ? (await handshake(target, { keepSession: true })).session : undefined;
        while (Date.now() < deadline) {
            const result = await handshake(target, { keepSession: options.resume, session });
            connections += 1;
            resumed += result.resumed ? 1 : 0;
            session = options.resume ? result.session : undefined;
        }
    };
    const started = Date.now();
    await Promise.all(Array.from({ length: options.clients }, client));
    return { connectionsPerSecond: connections / ((Date.now() - started) / 1000), connections, resumed };
}
