import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser } from "playwright-core";

/** Debian's Chromium: playwright-core drives it; a browser download of Playwright's own fails here. */
export const CHROMIUM = "/usr/bin/chromium";

export interface BrowserOptions {
    /** Host names the browser resolves to these addresses, as the site's DNS would. */
    readonly hosts: Readonly<Record<string, string>>;
    /** A root CA (PEM) the browser trusts for HTTPS, besides nothing else: pebble's, for the sandbox. */
    readonly trustedCaPem?: string;
}

export interface TestBrowser {
    readonly browser: Browser;
    /** Closes the browser and removes its profile. */
    close(): Promise<void>;
}

/**
 * Headless Chromium that reaches the sandbox by name. Trust is added the way Chromium on Linux
 * reads it, from an NSS database under $HOME, in a home of the browser's own.
 */
export async function launchBrowser(options: BrowserOptions): Promise<TestBrowser> {
    if (!existsSync(CHROMIUM)) {
        throw new Error(`${CHROMIUM} is missing; install Debian's browser: apt-get install -y chromium libnss3-tools`);
    }
    const home = mkdtempSync(join(tmpdir(), "webstack-browser-"));
    if (options.trustedCaPem !== undefined) {
        const database = `sql:${join(home, ".pki", "nssdb")}`;
        const rootFile = join(home, "root.pem");
        mkdirSync(join(home, ".pki", "nssdb"), { recursive: true });
        writeFileSync(rootFile, options.trustedCaPem);
        execFileSync("certutil", ["-d", database, "-N", "--empty-password"]);
        execFileSync("certutil", ["-d", database, "-A", "-t", "C,,", "-n", "webstack test root", "-i", rootFile]);
    }
    const rules = Object.entries(options.hosts)
        .map(([name, address]) => `MAP ${name} ${address}`)
        .join(", ");
    const browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [`--host-resolver-rules=${rules}`],
        env: { ...process.env, HOME: home },
    });
    return {
        browser,
        close: async () => {
            await browser.close();
            rmSync(home, { recursive: true, force: true });
        },
    };
}
