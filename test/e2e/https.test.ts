import { expect } from "chai";
import { X509Certificate } from "node:crypto";
import * as https from "node:https";
import * as tls from "node:tls";
import { buildRelease } from "../../release/build";
import { buildPlan, type Plan, type Release } from "../../provisioning";
import { CERTBOT_DEPLOY_HOOK, certificatePaths } from "../../provisioning/layout";
import { startAcmeServer, trustAcmeServer, type AcmeServer } from "../../sandbox/acme/acme";
import type { StepResult } from "../../sandbox/executors/runner";
import { request, waitUntil, type HttpAnswer } from "../support/http";
import { startLoad } from "../support/load";
import { launchBrowser } from "../support/browser";
import { figure } from "../support/figure";
import { startSandbox, type TestSandbox, suiteLog } from "../support/sandbox";

const SANDBOX_NAME = "e2e-https";
const APP_INSTANCES = 2;
const LOAD_PATHS = ["/", "/api/posts?limit=5", "/healthz", "/app.js"];

interface Handshake {
    readonly protocol: string | null;
    readonly alpnProtocol: string | false | null;
    readonly certificate: tls.DetailedPeerCertificate;
}

/** The names a certificate covers, from node's `subjectaltname` ("DNS:a, DNS:b"), sorted. */
function subjectAltNames(certificate: tls.PeerCertificate): string[] {
    return (certificate.subjectaltname ?? "")
        .split(", ")
        .map((entry) => entry.replace(/^DNS:/, ""))
        .sort();
}

/** The certificates the server sent, leaf first, up to the root it chains to. */
function chainOf(certificate: tls.DetailedPeerCertificate): tls.DetailedPeerCertificate[] {
    const chain = [certificate];
    while (chain[chain.length - 1].issuerCertificate && chain[chain.length - 1].issuerCertificate !== chain[chain.length - 1]) {
        chain.push(chain[chain.length - 1].issuerCertificate);
    }
    return chain;
}

/** A certificate serial from its hex form, which node and openssl pad differently. */
function serial(hex: string): bigint {
    return BigInt(`0x${hex}`);
}

describe("HTTPS with a certificate from a real ACME server (pebble) on a sandbox server (end to end)", function () {
    this.timeout(20 * 60_000);

    let sandbox: TestSandbox;
    let acme: AcmeServer;
    let release: Release;
    let www: string;

    const planFor = (): Plan =>
        buildPlan({
            appInstances: APP_INSTANCES,
            release,
            tls: { email: "ops@webstack.test", directoryUrl: acme.directoryUrl, includeApex: true },
        });
    const apply = (plan: Plan): Promise<StepResult[]> => sandbox.apply(plan);
    const onServer = (command: string): Promise<string> => sandbox.exec(command);
    const httpSite = (hostName: string) => ({ address: sandbox.address, hostName });

    /** A TLS handshake with the server's port 443, trusting pebble's root only, as a browser that resolved `servername` would make it. */
    const handshake = (options: tls.ConnectionOptions & { servername: string }): Promise<Handshake> =>
        new Promise((resolve, reject) => {
            const socket = tls.connect(
                { host: sandbox.address, port: 443, ca: acme.rootCaPem, rejectUnauthorized: true, timeout: 10_000, ...options },
                () => {
                    const result = {
                        protocol: socket.getProtocol(),
                        alpnProtocol: socket.alpnProtocol,
                        certificate: socket.getPeerCertificate(true),
                    };
                    socket.end();
                    resolve(result);
                },
            );
            socket.on("timeout", () => socket.destroy(new Error("TLS handshake timed out")));
            socket.on("error", reject);
        });

    /** One HTTPS request to the server's address for `hostName`, trusting pebble's root only. */
    const httpsGet = (hostName: string, path: string): Promise<HttpAnswer> =>
        new Promise((resolve, reject) => {
            const outgoing = https.get(
                {
                    host: sandbox.address,
                    port: 443,
                    path,
                    servername: hostName,
                    headers: { Host: hostName },
                    ca: acme.rootCaPem,
                    agent: false,
                    timeout: 10_000,
                },
                (response) => {
                    const chunks: Buffer[] = [];
                    response.on("data", (chunk: Buffer) => chunks.push(chunk));
                    response.on("end", () =>
                        resolve({
                            status: response.statusCode ?? 0,
                            headers: response.headers,
                            body: Buffer.concat(chunks).toString("utf8"),
                        }),
                    );
                },
            );
            outgoing.on("timeout", () => outgoing.destroy(new Error(`GET https://${hostName}${path} timed out`)));
            outgoing.on("error", reject);
        });

    const servedSerial = async (): Promise<bigint> => serial((await handshake({ servername: www })).certificate.serialNumber);
    const serialOnDisk = async (): Promise<bigint> =>
        serial(
            (await onServer(`openssl x509 -in ${certificatePaths(sandbox.domain).fullchain} -noout -serial`))
                .trim()
                .replace(/^serial=/, ""),
        );

    before(async () => {
        const started = Date.now();
        sandbox = await startSandbox(SANDBOX_NAME, { image: "packages" });
        www = `www.${sandbox.domain}`;
        acme = await startAcmeServer(sandbox.sandbox, { log: suiteLog });
        await trustAcmeServer(sandbox.sandbox, acme);
        release = await buildRelease();
        const results = await apply(planFor());
        const certbot = results.find((step) => step.name === "certbot");
        figure(`certificate issued by pebble in ${certbot?.seconds.toFixed(1)} s (the certbot step, certbot installed included)`);
        figure(`sandbox booted, provisioned and on HTTPS in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    });

    after(async () => {
        await acme?.stop();
        await sandbox?.destroy();
    });

    it("changes nothing when the server is made to trust the ACME server again", async () => {
        expect(await trustAcmeServer(sandbox.sandbox, acme)).to.equal(false);
    });

    it("answers on port 443 from outside: https://www.<domain> with a certificate for www.<domain> and the apex that chains to pebble's root", async () => {
        const { certificate } = await handshake({ servername: www });
        expect(certificate.subject.CN).to.equal(www);
        expect(subjectAltNames(certificate)).to.deep.equal([sandbox.domain, www].sort());
        const chain = chainOf(certificate);
        expect(chain.map((link) => link.subject.CN)).to.have.length(3);
        expect(chain[1].fingerprint256, "nginx sends pebble's intermediate").to.equal(
            new X509Certificate(acme.intermediatePem).fingerprint256,
        );
        expect(chain[2].fingerprint256).to.equal(new X509Certificate(acme.rootCaPem).fingerprint256);

        const page = await httpsGet(www, "/");
        expect(page.status).to.equal(200);
        expect(page.body).to.match(/<html/i);
    });

    it("redirects the apex over HTTPS to https://www.<domain>, with the same certificate", async () => {
        const { certificate } = await handshake({ servername: sandbox.domain });
        expect(subjectAltNames(certificate)).to.include(sandbox.domain);
        const answer = await httpsGet(sandbox.domain, "/about?x=1");
        expect(answer.status).to.equal(301);
        expect(answer.headers.location).to.equal(`https://${www}/about?x=1`);
    });

    it("refuses a TLS handshake for any other name", async () => {
        const refused = await handshake({ servername: `other.${sandbox.domain}` }).then(
            () => "accepted",
            (error: Error) => error.message,
        );
        expect(refused).to.match(/unrecognized name/i);
    });

    it("redirects HTTP with 301 to https://www.<domain>, but keeps the ACME challenge path on HTTP", async () => {
        for (const hostName of [www, sandbox.domain]) {
            const redirect = await request(httpSite(hostName), "GET", "/some/page?q=1");
            expect(redirect.status, hostName).to.equal(301);
            expect(redirect.headers.location, hostName).to.equal(`https://${www}/some/page?q=1`);
            const challenge = await request(httpSite(hostName), "GET", "/.well-known/acme-challenge/x");
            expect(challenge.status, hostName).to.equal(404);
            expect(challenge.headers.location, hostName).to.equal(undefined);
        }
    });

    it("refuses TLS 1.0 and 1.1 with a protocol version alert, and speaks TLS 1.2 and 1.3", async () => {
        // The client allows the old versions (security level 0), so the refusal can only come from the server.
        const oldClient = { ciphers: "DEFAULT@SECLEVEL=0" };
        for (const version of ["TLSv1", "TLSv1.1"] as const) {
            const refused = await handshake({ servername: www, minVersion: version, maxVersion: version, ...oldClient }).then(
                () => "accepted",
                (error: Error) => error.message,
            );
            expect(refused, version).to.match(/alert protocol version/i);
        }
        for (const version of ["TLSv1.2", "TLSv1.3"] as const) {
            expect((await handshake({ servername: www, minVersion: version, maxVersion: version })).protocol).to.equal(version);
        }
    });

    it("resumes TLS sessions, in TLS 1.2 and 1.3, so a returning client skips the full handshake", async () => {
        for (const version of ["TLSv1.2", "TLSv1.3"] as const) {
            const session = await new Promise<Buffer>((resolve, reject) => {
                const socket = tls.connect({
                    host: sandbox.address,
                    port: 443,
                    servername: www,
                    ca: acme.rootCaPem,
                    minVersion: version,
                    maxVersion: version,
                });
                socket.once("session", (ticket: Buffer) => {
                    socket.end();
                    resolve(ticket);
                });
                socket.on("error", reject);
            });
            const reused = await new Promise<boolean>((resolve, reject) => {
                const socket = tls.connect(
                    {
                        host: sandbox.address,
                        port: 443,
                        servername: www,
                        ca: acme.rootCaPem,
                        minVersion: version,
                        maxVersion: version,
                        session,
                    },
                    () => {
                        resolve(socket.isSessionReused());
                        socket.end();
                    },
                );
                socket.on("error", reject);
            });
            expect(reused, version).to.equal(true);
        }
    });

    it("offers HTTP/2 through ALPN and sends HSTS", async () => {
        expect((await handshake({ servername: www, ALPNProtocols: ["h2", "http/1.1"] })).alpnProtocol).to.equal("h2");
        expect((await httpsGet(www, "/")).headers["strict-transport-security"]).to.equal("max-age=63072000");
    });

    it("works in a real browser that trusts pebble's root: HTTP redirected to HTTPS, the page over HTTP/2, no console error", async () => {
        const browser = await launchBrowser({ hosts: { [www]: sandbox.address }, trustedCaPem: acme.rootCaPem });
        try {
            const page = await browser.browser.newPage();
            const problems: string[] = [];
            page.on("console", (message) => message.type() === "error" && problems.push(message.text()));
            const response = await page.goto(`http://${www}/`);
            await page.locator("#release").filter({ hasNotText: "…" }).waitFor();

            expect(page.url()).to.equal(`https://${www}/`);
            expect(response?.status()).to.equal(200);
            expect(await page.evaluate('performance.getEntriesByType("navigation")[0].nextHopProtocol')).to.equal("h2");
            expect(await page.evaluate("window.isSecureContext")).to.equal(true);
            expect(problems).to.deep.equal([]);
        } finally {
            await browser.close();
        }
    });

    it("changes nothing on a second run of the plan: certbot keeps the certificate", async () => {
        const serialBefore = await servedSerial();
        const results = await apply(planFor());
        expect(results.filter((step) => step.changed !== 0).map((step) => `${step.name}: changed ${step.changed}`)).to.deep.equal([]);
        expect(await servedSerial()).to.equal(serialBefore);
    });

    it("renews the certificate when forced, and the deploy hook makes nginx serve it without a failed request", async () => {
        const serialBefore = await servedSerial();
        const load = startLoad({ address: sandbox.address, hostName: www, trustedCaPem: acme.rootCaPem }, { paths: LOAD_PATHS });
        const started = Date.now();
        // Without a terminal, certbot renew first sleeps for up to 8 minutes (to spread the load on Let's Encrypt).
        await onServer("certbot renew --force-renewal --no-random-sleep-on-renew");
        const renewalSeconds = (Date.now() - started) / 1000;
        const newSerial = await serialOnDisk();
        const servedAfter = await waitUntil("nginx serves the renewed certificate", 10, async () => (await servedSerial()) === newSerial);
        await new Promise((resolve) => setTimeout(resolve, 1000));
        const report = await load.stop();
        figure(
            `forced renewal in ${renewalSeconds.toFixed(1)} s; the new certificate served ${servedAfter.toFixed(1)} s after certbot returned`,
        );
        figure(
            `HTTPS load during renewal: ${report.sent} requests in ${report.seconds.toFixed(1)} s, ${report.failed} failed, ${report.retriedOnClosedConnection} sent again after nginx closed their connection before answering`,
        );
        expect(newSerial).to.not.equal(serialBefore);
        // certbot logs the hooks it runs only to its log file, which each run starts anew.
        expect(await onServer("grep 'Running deploy-hook command' /var/log/letsencrypt/letsencrypt.log")).to.contain(CERTBOT_DEPLOY_HOOK);
        expect(report.failed, report.failures.join("\n")).to.equal(0);
    });
});
