/**
 * Run by `npm test` before mocha (the pretest script): the Debian packages whose real tools the
 * tests run, installed when missing, and the Pulumi engine the engine suite drives, built when
 * neither PATH nor build.sh's cache has one, so that `npm test` works on a fresh machine. The
 * sandbox and pebble install their own packages when the end-to-end suites start them. With the
 * argument `unit`, only what `npm run test:unit` needs (the pull-request workflow installs that).
 */
import { ensureEngineBinDir } from "../../sandbox/executors/engine";
import { ensureHostPackages, requireRootOnLinux } from "../../sandbox/host/host";

/** shellcheck, `nginx -t` and `dnsmasq --test` on rendered files; curl and openssl in script and certificate tests. */
export const UNIT_TEST_HOST_PACKAGES = ["shellcheck", "nginx", "dnsmasq-base", "curl", "openssl"] as const;
/**
 * The app's tests add a real MariaDB; the browser tests Debian's Chromium, certutil to make it trust
 * the sandbox's ACME root, and a font to render the page with.
 */
export const TEST_HOST_PACKAGES = [...UNIT_TEST_HOST_PACKAGES, "mariadb-server", "chromium", "libnss3-tools", "fonts-dejavu-core"] as const;

if (require.main === module) {
    const wanted = process.argv[2] === "unit" ? UNIT_TEST_HOST_PACKAGES : TEST_HOST_PACKAGES;
    (async () => {
        requireRootOnLinux();
        await ensureHostPackages((line) => console.log(`tests: ${line}`), wanted);
        if (process.argv[2] !== "unit") {
            console.log(`tests: the Pulumi engine in ${ensureEngineBinDir((line) => console.log(`tests: ${line}`))}`);
        }
    })().catch((error: unknown) => {
        console.error(
            `The tests need the Debian packages ${wanted.join(", ")} and the Pulumi engine: ${error instanceof Error ? error.message : String(error)}`,
        );
        process.exit(1);
    });
}
