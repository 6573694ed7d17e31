import { expect } from "chai";
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import {
    DEFAULT_MAINTENANCE_MESSAGE,
    MAINTENANCE_FILES,
    MAINTENANCE_RETRY_AFTER_SECONDS,
    MAX_MAINTENANCE_MESSAGE_LENGTH,
    WRITE_PAUSE_ANSWER,
    WRITE_PAUSE_RETRY_AFTER_SECONDS,
    maintenanceMessageProblem,
    maintenanceProblems,
    renderMaintenanceAnswer,
    renderMaintenancePage,
    type MaintenanceSettings,
} from "../../../provisioning/files/maintenance";
import { renderMaintenanceCommand } from "../../../provisioning/files/commands";
import { shellQuote } from "../../../provisioning/script";
import { maintenanceStep } from "../../../provisioning/steps/maintenance";
import { CONTENT_SECURITY_POLICY, renderSite } from "../../../provisioning/files/nginx";
import { ACME_WEBROOT, MAINTENANCE_DIR } from "../../../provisioning/layout";
import { startNginxBeforeApp, type NginxBeforeApp } from "../../support/nginx";
import { relocated, runBash, temporaryDirectory } from "../../support/shell";

describe("maintenanceMessageProblem", () => {
    it("accepts one line of text up to the limit, in any script", () => {
        expect(maintenanceMessageProblem(DEFAULT_MAINTENANCE_MESSAGE)).to.equal(undefined);
        expect(maintenanceMessageProblem("Zurück um 15 Uhr — 漢字 ✓")).to.equal(undefined);
        expect(maintenanceMessageProblem("x".repeat(MAX_MAINTENANCE_MESSAGE_LENGTH))).to.equal(undefined);
    });

    it("refuses an empty message, a longer one and one with a line break or a tab, saying why", () => {
        expect(maintenanceMessageProblem("  ")).to.match(/^is empty; say what visitors should know/);
        expect(maintenanceMessageProblem("x".repeat(MAX_MAINTENANCE_MESSAGE_LENGTH + 1))).to.equal(
            `is ${MAX_MAINTENANCE_MESSAGE_LENGTH + 1} characters long; at most ${MAX_MAINTENANCE_MESSAGE_LENGTH} fit the page`,
        );
        expect(maintenanceMessageProblem("two\nlines")).to.match(/control character/);
        expect(maintenanceMessageProblem("a\ttab")).to.match(/control character/);
    });
});

describe("maintenanceProblems", () => {
    it("names every block that is not a CIDR and a bad message, and nothing for good settings", () => {
        expect(
            maintenanceProblems({ enabled: true, message: "Back soon.", allowedCidrs: ["203.0.113.7/32", "2001:db8::/64"] }),
        ).to.deep.equal([]);
        expect(maintenanceProblems({ message: "", allowedCidrs: ["203.0.113.7", "10.0.0.0/8", "office"] })).to.deep.equal([
            `maintenance.message is empty; say what visitors should know, for example "${DEFAULT_MAINTENANCE_MESSAGE}".`,
            'maintenance.allowedCidrs has "203.0.113.7", "office", which are not CIDR blocks; expected for example 203.0.113.7/32 or 2001:db8::/64.',
        ]);
    });
});

describe("the maintenance page and answer", () => {
    it("shows the message as text, never as markup", () => {
        const page = renderMaintenancePage(`<script>alert("x")</script> & 'quotes'`);
        expect(page).to.contain("<p>&#60;script&#62;alert(&#34;x&#34;)&#60;/script&#62; &#38; &#39;quotes&#39;</p>");
        expect(page).not.to.contain("<script>");
        expect(page).to.contain('<meta charset="utf-8">');
    });

    it("answers the API in JSON with the message", () => {
        expect(JSON.parse(renderMaintenanceAnswer('say "hi" \\ bye'))).to.deep.equal({ error: "maintenance", message: 'say "hi" \\ bye' });
    });

    it("fits the load balancer's fixed response of 1,024 characters with the longest message, escaped", () => {
        const longest = "&".repeat(MAX_MAINTENANCE_MESSAGE_LENGTH);
        expect(renderMaintenancePage(longest).length).to.be.at.most(1024);
        expect(renderMaintenanceAnswer(longest).length).to.be.at.most(1024);
    });
});

describe("renderSite's maintenance mode", () => {
    it("is nowhere behind a load balancer, whose own rule answers for the site", () => {
        const site = renderSite({ domain: "example.com", tls: false, behindLoadBalancer: true });
        expect(site).not.to.contain("maintenance");
    });

    it("refuses an allowed block that is not a CIDR block", () => {
        expect(() => renderSite({ domain: "example.com", tls: false, maintenanceAllowedCidrs: ["10.0.0.1"] })).to.throw(
            /maintenance.allowedCidrs has "10.0.0.1", which is not a CIDR block/,
        );
    });

    it("keeps the TLS site's headers, HSTS among them, on its 503", () => {
        const site = renderSite({ domain: "example.com", tls: true });
        const location = site.slice(site.indexOf("location ^~ /webstack-maintenance/ {"));
        expect(location.slice(0, location.indexOf("location = "))).to.contain(
            'add_header Strict-Transport-Security "max-age=63072000" always;',
        );
    });
});

/** One GET or POST from the given local address, as a client there would send it. */
function ask(
    site: { port: number },
    method: string,
    urlPath: string,
    localAddress = "127.0.0.1",
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
    return new Promise((resolve, reject) => {
        const outgoing = http.request(
            { host: "127.0.0.1", port: site.port, method, path: urlPath, localAddress, headers: { Host: "www.example.com" } },
            (response) => {
                const chunks: Buffer[] = [];
                response.on("data", (chunk: Buffer) => chunks.push(chunk));
                response.on("end", () =>
                    resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString("utf8") }),
                );
            },
        );
        outgoing.on("error", reject);
        outgoing.end(method === "POST" ? '{"author":"a","body":"b"}' : undefined);
    });
}

describe("renderSite's maintenance mode in a real nginx, before a stand-in app", function () {
    this.timeout(30_000);
    const ALLOWED = "127.0.0.2";
    const MESSAGE = "Moving to a bigger server — back at 15:00 UTC.";
    let nginx: NginxBeforeApp;
    let maintenanceDir: string;
    let site: { port: number };

    const turnOn = () => {
        fs.mkdirSync(maintenanceDir, { recursive: true });
        fs.writeFileSync(path.join(maintenanceDir, MAINTENANCE_FILES.answer), renderMaintenanceAnswer(MESSAGE));
        fs.writeFileSync(path.join(maintenanceDir, MAINTENANCE_FILES.page), renderMaintenancePage(MESSAGE));
    };

    before(async () => {
        nginx = await startNginxBeforeApp(
            (directory) =>
                renderSite({ domain: "example.com", tls: false, apiCacheSeconds: 0, maintenanceAllowedCidrs: [`${ALLOWED}/32`] })
                    .replaceAll(MAINTENANCE_DIR, path.join(directory, "maintenance"))
                    .replaceAll(ACME_WEBROOT, path.join(directory, "acme")),
            (incoming, answer) => {
                answer.writeHead(incoming.method === "POST" ? 201 : 200, { "Content-Type": "application/json" });
                answer.end(JSON.stringify({ from: "app" }));
            },
        );
        maintenanceDir = path.join(nginx.directory, "maintenance");
        site = { port: nginx.port };
    });

    after(() => nginx?.stop());

    it("passes every request on while the page is not there", async () => {
        expect((await ask(site, "GET", "/api/posts")).status).to.equal(200);
        expect((await ask(site, "POST", "/api/posts")).status).to.equal(201);
    });

    it("answers everyone else with 503, Retry-After and the message: a page, or JSON under /api/, for reads and writes alike", async () => {
        turnOn();
        const page = await ask(site, "GET", "/some/page?x=1");
        expect(page.status).to.equal(503);
        expect(page.headers["retry-after"]).to.equal(String(MAINTENANCE_RETRY_AFTER_SECONDS));
        expect(page.headers["content-type"]).to.equal("text/html; charset=utf-8");
        expect(page.headers["cache-control"]).to.equal("no-store");
        expect(page.headers["content-security-policy"]).to.equal(CONTENT_SECURITY_POLICY);
        expect(page.body).to.contain(`<p>${MESSAGE}</p>`);
        for (const method of ["GET", "POST"]) {
            const answer = await ask(site, method, "/api/posts");
            expect(answer.status, method).to.equal(503);
            expect(answer.headers["retry-after"], method).to.equal(String(MAINTENANCE_RETRY_AFTER_SECONDS));
            expect(answer.headers["content-type"], method).to.match(/^application\/json/);
            expect(JSON.parse(answer.body), method).to.deep.equal({ error: "maintenance", message: MESSAGE });
        }
    });

    it("gives the allowed addresses the site, and the ACME challenge to everyone, during maintenance", async () => {
        expect(await ask(site, "GET", "/api/posts", ALLOWED)).to.include({ status: 200, body: '{"from":"app"}' });
        expect((await ask(site, "POST", "/api/posts", ALLOWED)).status).to.equal(201);
        expect((await ask(site, "GET", "/.well-known/acme-challenge/token")).status).to.equal(404);
    });

    it("serves the site again once the page is gone, and never the maintenance files themselves", async () => {
        fs.rmSync(path.join(maintenanceDir, MAINTENANCE_FILES.page));
        expect((await ask(site, "GET", "/api/posts")).status).to.equal(200);
        expect((await ask(site, "GET", `/webstack-maintenance/${MAINTENANCE_FILES.answer}`)).status, "internal only").to.equal(404);
    });

    it("answers every write with 503, a short Retry-After and JSON while writes are paused, and serves reads", async () => {
        fs.writeFileSync(path.join(maintenanceDir, MAINTENANCE_FILES.writesPaused), "paused");
        for (const method of ["POST", "PUT", "PATCH", "DELETE"]) {
            const answer = await ask(site, method, "/api/posts");
            expect(answer.status, method).to.equal(503);
            expect(answer.headers["retry-after"], method).to.equal(String(WRITE_PAUSE_RETRY_AFTER_SECONDS));
            expect(answer.headers["content-type"], method).to.match(/^application\/json/);
            expect(answer.headers["cache-control"], method).to.equal("no-store");
            expect(answer.headers["content-security-policy"], method).to.equal(CONTENT_SECURITY_POLICY);
            expect(JSON.parse(answer.body), method).to.deep.equal(WRITE_PAUSE_ANSWER);
        }
        expect(await ask(site, "GET", "/api/posts")).to.include({ status: 200, body: '{"from":"app"}' });
        expect((await ask(site, "HEAD", "/api/posts")).status).to.equal(200);
        expect((await ask(site, "GET", "/webstack-writes-paused")).status, "internal only").to.equal(404);
    });

    it("answers with maintenance, not the write pause, when both are on, and takes writes again once the switch is gone", async () => {
        turnOn();
        expect(JSON.parse((await ask(site, "POST", "/api/posts")).body)).to.deep.equal({ error: "maintenance", message: MESSAGE });
        fs.rmSync(path.join(maintenanceDir, MAINTENANCE_FILES.page));
        fs.rmSync(path.join(maintenanceDir, MAINTENANCE_FILES.writesPaused));
        expect((await ask(site, "POST", "/api/posts")).status).to.equal(201);
    });
});

describe("webstack-maintenance and the maintenance step, run with bash", function () {
    this.timeout(30_000);
    const root = temporaryDirectory("webstack-maintenance");
    const maintenanceDir = path.join(root, "maintenance");
    const paths = {
        MAINTENANCE_DIR: maintenanceDir,
        MAINTENANCE_RENDERER: path.join(root, "lib", "maintenance-page.cjs"),
        MAINTENANCE_COMMAND: path.join(root, "bin", "webstack-maintenance"),
        STEP_RECORDS_DIR: path.join(root, "steps"),
        PENDING_ACTIONS_DIR: path.join(root, "pending"),
        PROVISIONING_LOG_FILE: path.join(root, "provisioning.log"),
    };
    const command = path.join(root, "webstack-maintenance");
    const applyStep = (settings: MaintenanceSettings) => runBash(relocated(maintenanceStep(settings).script as string, paths));
    const maintenance = (args: string) => runBash(`${command} ${args}`);
    const pageOnDisk = () => fs.readFileSync(path.join(maintenanceDir, MAINTENANCE_FILES.page), "utf8");

    before(() => {
        fs.mkdirSync(path.join(root, "lib"));
        fs.mkdirSync(path.join(root, "bin"));
        fs.writeFileSync(command, relocated(renderMaintenanceCommand(["203.0.113.7/32", "2001:db8::/64"]), paths), { mode: 0o755 });
    });

    after(() => fs.rmSync(root, { recursive: true, force: true }));

    it("puts the site in maintenance with the configured message, installs the command and changes nothing on a second run", () => {
        const first = applyStep({ enabled: true, message: "Back at 15:00 <UTC> & later." });
        expect(first.status, first.stderr).to.equal(0);
        expect(first.stdout).not.to.contain("changed: 0");
        expect(pageOnDisk()).to.equal(renderMaintenancePage("Back at 15:00 <UTC> & later.").trimEnd());
        expect(fs.statSync(paths.MAINTENANCE_COMMAND).mode & 0o777).to.equal(0o755);
        expect(applyStep({ enabled: true, message: "Back at 15:00 <UTC> & later." }).stdout).to.contain("changed: 0");
    });

    it("says whether the site is in maintenance, with what message, and who gets the site anyway", () => {
        expect(maintenance("status")).to.include({
            status: 0,
            stdout: "on: Back at 15:00 <UTC> & later.\nallowed during maintenance: 203.0.113.7/32 2001:db8::/64\n",
        });
    });

    it("takes the site out of maintenance when the config says so, and then changes nothing", () => {
        expect(applyStep({}).stdout).to.match(/changed: [1-9]/);
        expect(fs.existsSync(path.join(maintenanceDir, MAINTENANCE_FILES.answer))).to.equal(false);
        expect(applyStep({}).stdout).to.contain("changed: 0");
        expect(maintenance("status").stdout).to.match(/^off\n/);
    });

    it("switches on with the operator's message, quotes, markup and all, and off again", () => {
        const message = `Database upgrade: "quotes", 'apostrophes', <b>markup</b> & $HOME`;
        expect(maintenance(`on --message ${shellQuote(message)}`).status).to.equal(0);
        expect(pageOnDisk()).to.contain(`&#34;quotes&#34;, &#39;apostrophes&#39;, &#60;b&#62;markup&#60;/b&#62; &#38; $HOME`);
        expect(JSON.parse(fs.readFileSync(path.join(maintenanceDir, MAINTENANCE_FILES.answer), "utf8"))).to.deep.equal({
            error: "maintenance",
            message,
        });
        expect(maintenance("on").status, "the default message").to.equal(0);
        expect(maintenance("status").stdout).to.contain(`on: ${DEFAULT_MAINTENANCE_MESSAGE}\n`);
        expect(maintenance("off")).to.include({ status: 0, stdout: "maintenance off: the site serves everyone\n" });
        expect(fs.readdirSync(maintenanceDir)).to.deep.equal([]);
    });

    it("refuses a bad message or argument with the usage, changing nothing", () => {
        const tooLong = maintenance(`on --message ${"x".repeat(MAX_MAINTENANCE_MESSAGE_LENGTH + 1)}`);
        expect(tooLong.status).to.equal(1);
        expect(tooLong.stderr).to.contain(`the message is ${MAX_MAINTENANCE_MESSAGE_LENGTH + 1} characters long`);
        expect(maintenance(`on --message ${shellQuote("two\nlines")}`).stderr).to.contain("has a control character");
        expect(maintenance("on --message").stderr).to.contain("--message needs the text visitors read");
        expect(maintenance("on --later").stderr).to.contain('unknown argument "--later"; usage: webstack-maintenance on');
        expect(maintenance("").stderr).to.contain("usage: webstack-maintenance on [--message TEXT] | off | status");
        expect(fs.readdirSync(maintenanceDir)).to.deep.equal([]);
    });
});
