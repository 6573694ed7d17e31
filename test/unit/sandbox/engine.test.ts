import { expect } from "chai";
import { join } from "node:path";
import {
    ed25519HostKey,
    engineCacheBinDir,
    engineEnvironment,
    existingServerConfig,
    findEngineBinDir,
    missingEngineMessage,
    projectSettingsFor,
    REPO_ROOT,
    stackStateFile,
} from "../../../sandbox/executors/engine";

describe("findEngineBinDir", () => {
    const has =
        (...files: string[]) =>
        (path: string) =>
            files.includes(path);

    it("takes the first pulumi on PATH, a workstation's own install before the build's cache", () => {
        const env = { PATH: "/usr/bin:/opt/pulumi/bin:/usr/local/bin", WEBSTACK_ENGINE_DIR: "/cache/engine" };
        expect(findEngineBinDir(env, has("/opt/pulumi/bin/pulumi", "/usr/local/bin/pulumi", "/cache/engine/bin/pulumi"))).to.equal(
            "/opt/pulumi/bin",
        );
    });

    it("falls back to build.sh's cache, WEBSTACK_ENGINE_DIR's or the home's, and finds nothing when neither has one", () => {
        expect(findEngineBinDir({ PATH: "/usr/bin", WEBSTACK_ENGINE_DIR: "/cache/engine" }, has("/cache/engine/bin/pulumi"))).to.equal(
            "/cache/engine/bin",
        );
        expect(engineCacheBinDir({}, "/home/dev")).to.equal("/home/dev/.cache/webstack-engine/bin");
        expect(findEngineBinDir({ PATH: "/usr/bin" }, has())).to.equal(undefined);
    });

    it("says how to get the engine when there is none: build.sh, or a Pulumi of the pinned version on PATH", () => {
        expect(missingEngineMessage({ WEBSTACK_ENGINE_DIR: "/cache/engine" })).to.match(
            /not found on PATH nor in \/cache\/engine\/bin\. Build it .* bash .*shared\/engine\/build\.sh .*install Pulumi v3\.248\.0/,
        );
    });
});

describe("projectSettingsFor", () => {
    it("is this repository's project with main pointing back at the checkout", () => {
        expect(projectSettingsFor(REPO_ROOT)).to.deep.include({ name: "webstack", main: REPO_ROOT });
        expect(projectSettingsFor(REPO_ROOT).runtime).to.deep.include({ name: "nodejs" });
    });
});

describe("existingServerConfig", () => {
    it("leaves the private key out when there is none: the steps log in through the ssh-agent", () => {
        const config = existingServerConfig({ domain: "webstack.test", host: "198.18.1.2", user: "admin", hostKey: "ssh-ed25519 AAAA" });
        expect(config).to.not.have.property("webstack:sshPrivateKey");
    });

    it("points the program at the server, with its pinned host key and the private key as a secret", () => {
        const config = existingServerConfig({
            domain: "webstack.test",
            host: "198.18.1.2",
            user: "admin",
            hostKey: "ssh-ed25519 AAAA",
            privateKey: "KEY",
        });
        expect(config).to.deep.equal({
            "webstack:domain": { value: "webstack.test" },
            "webstack:existingServerHost": { value: "198.18.1.2" },
            "webstack:sshUser": { value: "admin" },
            "webstack:sshHostKey": { value: "ssh-ed25519 AAAA" },
            "webstack:sshPrivateKey": { value: "KEY", secret: true },
        });
    });
});

describe("ed25519HostKey", () => {
    it("picks the ed25519 key of a known_hosts file, without its address", () => {
        expect(ed25519HostKey("198.18.1.2 ecdsa-sha2-nistp256 AAAAE2\n198.18.1.2 ssh-ed25519 AAAAC3Nz\n")).to.equal("ssh-ed25519 AAAAC3Nz");
    });

    it("refuses a file without one, naming what pulumi-command needs", () => {
        expect(() => ed25519HostKey("198.18.1.2 ssh-rsa AAAAB3\n")).to.throw(/no ssh-ed25519 host key/);
    });
});

describe("engineEnvironment and stackStateFile", () => {
    it("puts the engine first on PATH, keeps the state in the directory's file backend, and asks pulumi.com nothing", () => {
        expect(engineEnvironment("/engine/bin", "/state", "secret", { PATH: "/usr/bin" })).to.deep.equal({
            PATH: "/engine/bin:/usr/bin",
            PULUMI_BACKEND_URL: "file:///state/backend",
            PULUMI_CONFIG_PASSPHRASE: "secret",
            PULUMI_SKIP_UPDATE_CHECK: "true",
            PULUMI_DIY_BACKEND_NO_LEGACY_WARNING: "true",
        });
        expect(engineEnvironment("/engine/bin", "/state", "secret", { PATH: "/usr/bin" }, "/tmp/agent.sock")).to.include({
            SSH_AUTH_SOCK: "/tmp/agent.sock",
        });
        expect(stackStateFile("/state", "sandbox")).to.equal(join("/state", "backend", ".pulumi", "stacks", "webstack", "sandbox.json"));
    });
});
