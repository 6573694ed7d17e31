/**
 * Run by `npm test` before mocha (the pretest script): the Debian packages whose real tools the
 * tests run — shellcheck and nginx on rendered files, MariaDB for the app, curl and openssl —
 * installed when missing, so that `npm test` works on a fresh machine. The sandbox and pebble
 * install their own packages when the end-to-end suites start them.
 */
import { ensureHostPackages, requireRootOnLinux } from "../../sandbox/host";

export const TEST_HOST_PACKAGES = ["shellcheck", "nginx", "mariadb-server", "curl", "openssl"] as const;

if (require.main === module) {
    (async () => {
        requireRootOnLinux();
        await ensureHostPackages((line) => console.log(`npm test: ${line}`), TEST_HOST_PACKAGES);
    })().catch((error: unknown) => {
        console.error(`npm test needs the Debian packages ${TEST_HOST_PACKAGES.join(", ")}: ${error instanceof Error ? error.message : String(error)}`);
        process.exit(1);
    });
}
