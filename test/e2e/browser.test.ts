import { expect } from "chai";
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import { buildRelease } from "../../release/build";
import { APP_DATABASE, appInstanceUnit, appPorts, NGINX_API_CACHE_DIR } from "../../provisioning/layout";
import { launchBrowser, type TestBrowser } from "../support/browser";
import { figure } from "../support/figure";
import { pastTheCacheTime, request } from "../support/http";
import { provisionSandbox, type TestSandbox } from "../support/sandbox";

const SANDBOX_NAME = "e2e-browser";
const APP_INSTANCES = 2;
/** The README shows this picture of the page, taken here from a real sandbox. */
const README_SCREENSHOT = join(__dirname, "..", "..", "docs", "screenshot.png");

/** What went wrong on a page that a visitor would never see but a developer must: console errors, uncaught exceptions, CSP violations. */
function watchProblems(page: Page): string[] {
    const problems: string[] = [];
    page.on("console", (message) => {
        if (message.type() === "error") {
            problems.push(`console: ${message.text()}`);
        }
    });
    page.on("pageerror", (error) => problems.push(`exception: ${error.message}`));
    return problems;
}

describe("the page in a real browser (end to end)", function () {
    this.timeout(10 * 60_000);

    let sandbox: TestSandbox;
    let testBrowser: TestBrowser;
    let context: BrowserContext;
    let page: Page;
    let problems: string[];
    let siteUrl: string;
    const www = () => `www.${sandbox.domain}`;
    const onServer = (command: string) => sandbox.exec(command);
    const units = () => appPorts(APP_INSTANCES).map(appInstanceUnit).join(" ");
    const listBodies = () => page.locator("#posts li .body").allTextContents();

    async function openPage(): Promise<void> {
        await page.goto(siteUrl);
        await page.locator("#release").filter({ hasNotText: "…" }).waitFor();
    }

    async function writePost(author: string, body: string): Promise<void> {
        await page.fill("#author", author);
        await page.fill("#body", body);
        await page.click("button[type=submit]");
    }

    before(async () => {
        sandbox = await provisionSandbox(SANDBOX_NAME, { appInstances: APP_INSTANCES, release: await buildRelease() });
        siteUrl = `http://${www()}/`;
        testBrowser = await launchBrowser({ hosts: { [www()]: sandbox.address } });
    });

    beforeEach(async () => {
        context = await testBrowser.browser.newContext({ viewport: { width: 1000, height: 800 } });
        // Chromium reports a CSP violation to the page; make it a console error that the test sees.
        await context.addInitScript(
            'document.addEventListener("securitypolicyviolation", (event) => console.error(`CSP violation: ${event.violatedDirective} ${event.blockedURI}`));',
        );
        page = await context.newPage();
        problems = watchProblems(page);
    });

    afterEach(async () => {
        await context?.close();
    });

    after(async () => {
        await testBrowser?.close();
        await sandbox?.destroy();
    });

    it("loads the page, its script, style and icon with no console error, failed request or CSP violation", async () => {
        const failedRequests: string[] = [];
        page.on("response", (response) => {
            if (response.status() >= 400) {
                failedRequests.push(`${response.status()} ${response.url()}`);
            }
        });
        await openPage();
        await page.waitForLoadState("networkidle");

        expect(await page.title()).to.equal("webstack posts");
        expect(await page.locator("#release").textContent()).to.match(/^[0-9a-f]{12}$/);
        expect(await page.evaluate('document.querySelector("link[rel=icon]").href')).to.equal(`${siteUrl}favicon.svg`);
        expect(failedRequests).to.deep.equal([]);
        expect(problems).to.deep.equal([]);
    });

    it("shows a written post at the top of the list, clears the message and keeps the name", async () => {
        await openPage();
        await writePost("Ada", "written in a real browser");

        await page.locator("#posts li .body").first().filter({ hasText: "written in a real browser" }).waitFor();
        expect(await page.inputValue("#body")).to.equal("");
        expect(await page.inputValue("#author")).to.equal("Ada");
        expect(await page.locator("#form-error").isHidden()).to.equal(true);
        expect(problems).to.deep.equal([]);
    });

    it("finds its own post in the list when reloaded at once, though other readers are served the list kept a moment before", async () => {
        await openPage();
        const kept = await request({ address: sandbox.address, hostName: www() }, "GET", "/api/posts?limit=20");
        expect(kept.headers["x-cache-status"], "the list from before the write is in the cache").to.be.oneOf(["HIT", "MISS"]);
        await writePost("Ada", "read back at once");
        await page.locator("#posts li .body").first().filter({ hasText: "read back at once" }).waitFor();

        const listAnswer = page.waitForResponse((response) => response.url().includes("/api/posts?"));
        await page.reload();
        const answer = await listAnswer;
        await page.locator("#posts li .body").first().waitFor();

        expect(answer.headers()["x-cache-status"], "the writer's read skips the cache").to.equal("BYPASS");
        expect((await listBodies())[0]).to.equal("read back at once");
        const anonymous = await request({ address: sandbox.address, hostName: www() }, "GET", "/api/posts?limit=20");
        expect(anonymous.headers["set-cookie"]).to.equal(undefined);
        expect(problems).to.deep.equal([]);
    });

    it("pages 25 posts with Older posts, nothing repeated and nothing missing", async () => {
        await onServer(`mariadb -e 'DELETE FROM ${APP_DATABASE}.posts'`);
        const site = { address: sandbox.address, hostName: www() };
        const bodies = Array.from({ length: 25 }, (_, index) => `paged post ${index + 1}`);
        for (const body of bodies) {
            expect((await request(site, "POST", "/api/posts", { author: "pager", body })).status).to.equal(201);
        }
        // This browser wrote none of them: it reads the list as any reader does, through the cache.
        await pastTheCacheTime();
        await openPage();
        await page.locator("#posts li").nth(19).waitFor();
        expect(await listBodies()).to.have.length(20);

        await page.click("#older");
        await page.locator("#posts li").nth(24).waitFor();

        expect(await listBodies()).to.deep.equal([...bodies].reverse());
        expect(await page.locator("#older").isHidden()).to.equal(true);
    });

    for (const [what, author, message] of [
        ["an empty name", "", /"author" is required|"author" must be 1-64 characters/],
        ["a name over 64 characters", "n".repeat(65), /"author" must be 1-64 characters after trimming \(got 65\)/],
    ] as const) {
        it(`shows the API's error in the form for ${what}, and keeps what was typed`, async () => {
            await openPage();
            await writePost(author, "a message worth keeping");

            const error = page.locator("form #form-error");
            await error.waitFor();
            expect(await error.textContent()).to.match(message);
            expect(await error.getAttribute("role")).to.equal("alert");
            expect(await page.inputValue("#author")).to.equal(author);
            expect(await page.inputValue("#body")).to.equal("a message worth keeping");
        });
    }

    it("renders markup in a post as text, running none of it", async () => {
        const markup = `<img src="x" onerror="window.injected = 'img'"><script>window.injected = 'script'</script><b>bold?</b>`;
        await openPage();
        await writePost("Mallory", markup);

        await page.locator("#posts li .body").first().filter({ hasText: "bold?" }).waitFor();
        expect(await page.locator("#posts li .body").first().textContent()).to.equal(markup);
        expect(await page.locator("#posts img, #posts script, #posts b").count()).to.equal(0);
        expect(await page.evaluate("window.injected")).to.equal(undefined);
    });

    it("shows a readable error while the app is down with no list in nginx's cache, and recovers by itself when it is back, without a reload", async () => {
        // A list in the cache would be served, marked stale, for as long as the app is down.
        await onServer(`find ${NGINX_API_CACHE_DIR} -type f -delete`);
        await onServer(`systemctl stop ${units()}`);
        try {
            await openPage();
            await page.evaluate("window.loadedOnce = true");
            const listError = page.locator("#list-error");
            await listError.waitFor({ timeout: 15_000 });
            expect(await listError.textContent()).to.equal("The app is busy or not answering; try again shortly.");
        } finally {
            await onServer(`systemctl start ${units()}`);
        }
        const started = Date.now();
        await page.locator("#list-error").waitFor({ state: "hidden", timeout: 30_000 });
        figure(`the page recovered ${((Date.now() - started) / 1000).toFixed(1)} s after the app instances started again`);
        expect(await page.locator("#posts li").count()).to.be.above(0);
        expect(await page.evaluate("window.loadedOnce"), "the page was not reloaded").to.equal(true);
    });

    it("works with the keyboard alone: tab to each field, type, and post with Enter", async () => {
        await openPage();
        await page.keyboard.press("Tab");
        expect(await page.evaluate("document.activeElement.id")).to.equal("author");
        await page.keyboard.type("Keyboard");
        await page.keyboard.press("Tab");
        expect(await page.evaluate("document.activeElement.id")).to.equal("body");
        await page.keyboard.type("posted without a mouse");
        await page.keyboard.press("Tab");
        expect(await page.evaluate("document.activeElement.textContent")).to.equal("Post");
        await page.keyboard.press("Enter");

        await page.locator("#posts li .body").first().filter({ hasText: "posted without a mouse" }).waitFor();
    });

    it("passes an axe-core accessibility audit with no serious or critical violation", async () => {
        // axe is injected as an inline script, which the site's CSP rightly refuses; this context allows it.
        const auditContext = await testBrowser.browser.newContext({ bypassCSP: true });
        try {
            const auditPage = await auditContext.newPage();
            await auditPage.goto(siteUrl);
            await auditPage.locator("#posts li").first().waitFor();
            await auditPage.addScriptTag({ path: require.resolve("axe-core/axe.min.js") });
            const violations = (await auditPage.evaluate(
                "axe.run().then((results) => results.violations.map((violation) => ({ id: violation.id, impact: violation.impact, nodes: violation.nodes.length })))",
            )) as { id: string; impact: string; nodes: number }[];
            figure(
                `axe-core: ${violations.length === 0 ? "no violation" : violations.map((violation) => `${violation.id} (${violation.impact})`).join(", ")}`,
            );
            expect(violations.filter((violation) => violation.impact === "serious" || violation.impact === "critical")).to.deep.equal([]);
        } finally {
            await auditContext.close();
        }
    });

    it("looks as the README shows it (the screenshot is taken here)", async () => {
        await onServer(`mariadb -e 'DELETE FROM ${APP_DATABASE}.posts'`);
        await openPage();
        await writePost("Ada", "Provisioned by the same plan as EC2: nginx in front, two Node.js instances, MariaDB on loopback.");
        await page.locator("#posts li").first().waitFor();
        await writePost("Grace", "Deployed again under load: not one request failed.");
        await page.locator("#posts li").nth(1).waitFor();
        await page.locator("#body").blur();

        mkdirSync(dirname(README_SCREENSHOT), { recursive: true });
        await page.screenshot({ path: README_SCREENSHOT, fullPage: true });
        expect(await listBodies()).to.have.length(2);
    });
});
