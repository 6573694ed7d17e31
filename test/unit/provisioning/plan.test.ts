import { expect } from "chai";
import {
    buildPlan,
    changedSteps,
    Plan,
    PlanInputs,
    RunStep,
    ServerSettings,
    stepHoldsSecrets,
    stepScript,
    UPLOAD_DIR,
    checkedServerSettings,
} from "../../../provisioning";
import {
    renderActivateCommand,
    renderBackupCommand,
    renderCertbotDeployHook,
    renderReportMetricsCommand,
    renderRestoreCommand,
    renderShipBackupsCommand,
    renderRollbackCommand,
    renderMaintenanceCommand,
} from "../../../provisioning/files/commands";
import { SCRIPT_LIBRARY } from "../../../provisioning/script";
import { settingsMissingForHelpers, shellcheck } from "../../support/shell";

const SETTINGS: ServerSettings = {
    appInstances: 2,
    release: { id: "0123456789ab", artifactPath: "/work/build/webstack-release-0123456789ab.tar.gz", healthPath: "/healthz" },
};
const INPUTS: PlanInputs = { domain: "example.com" };
const TLS = { email: "ops@example.com", directoryUrl: "https://198.18.0.1:14000/dir" };

function runSteps(plan: Plan): RunStep[] {
    return plan.filter((step): step is RunStep => step.kind === "run");
}

function stepNamed(plan: Plan, name: string): RunStep {
    const step = runSteps(plan).find((candidate) => candidate.name === name);
    if (!step) {
        throw new Error(`no run step "${name}" in the plan`);
    }
    return step;
}

/** The script of the plan's run step `name`, rendered with the inputs. */
function scriptOf(plan: Plan, name: string, inputs: PlanInputs = INPUTS): string {
    return stepScript(stepNamed(plan, name), inputs);
}

describe("buildPlan", () => {
    const httpPlan = buildPlan(SETTINGS);
    const tlsPlan = buildPlan({ ...SETTINGS, tls: TLS });

    it("applies the steps in order: packages, base and hardening, database and what moves it, backups before the app takes traffic, reboots, app, nginx and maintenance mode before the release", () => {
        expect(httpPlan.map((step) => step.name)).to.deep.equal([
            "bootstrap",
            "packages",
            "base",
            "hardening",
            "database",
            "replication",
            "backup-bucket",
            "backups",
            "reboots",
            "app",
            "app-environment",
            "nginx",
            "maintenance",
            "upload-release",
            "deploy",
        ]);
    });

    it("uploads the release, named by its id, under the upload directory before the deploy step uses it", () => {
        const names = httpPlan.map((step) => step.name);
        const upload = httpPlan[names.indexOf("upload-release")];
        expect(upload).to.deep.equal({
            kind: "upload",
            name: "upload-release",
            localPath: SETTINGS.release.artifactPath,
            remotePath: `${UPLOAD_DIR}/release-0123456789ab.tar.gz`,
        });
        expect(names.indexOf("upload-release")).to.be.lessThan(names.indexOf("deploy"));
        const deploy = scriptOf(httpPlan, "deploy");
        expect(deploy).to.contain("export RELEASE_ID='0123456789ab'");
        expect(deploy).to.contain(`export ARTIFACT='${UPLOAD_DIR}/release-0123456789ab.tar.gz'`);
    });

    it("adds certbot and then the HTTPS site only when tls is set, and certbot needs DNS", () => {
        expect(httpPlan.map((step) => step.name)).not.to.include.any.members(["certbot", "nginx-tls"]);
        expect(tlsPlan.map((step) => step.name).slice(-3)).to.deep.equal(["deploy", "certbot", "nginx-tls"]);
        expect(stepNamed(tlsPlan, "certbot").needsDns).to.equal(true);
        expect(
            runSteps(tlsPlan)
                .filter((step) => step.needsDns)
                .map((step) => step.name),
        ).to.deep.equal(["certbot"]);
    });

    it("asks certbot for www only, non-interactively, keeping a valid certificate", () => {
        const certbot = scriptOf(tlsPlan, "certbot");
        expect(certbot).to.contain("export TLS_DIRECTORY_URL='https://198.18.0.1:14000/dir'");
        expect(certbot).to.contain("export TLS_EMAIL='ops@example.com'");
        expect(certbot).to.contain("export CERT_DOMAINS='www.example.com'\n");
        expect(certbot).to.contain('"${domain_arguments[@]}" --keep-until-expiring');
        expect(certbot).to.contain("--non-interactive");
        expect(certbot).to.contain("--webroot --webroot-path");
        expect(certbot).to.contain("ensure_service certbot.timer");
    });

    it("asks certbot for the apex too when its record points at the server", () => {
        const certbot = scriptOf(buildPlan({ ...SETTINGS, tls: { ...TLS, includeApex: true } }), "certbot");
        expect(certbot).to.contain("export CERT_DOMAINS='www.example.com example.com'\n");
    });

    it("serves HTTPS after certbot, and before it only when the certificate already exists", () => {
        expect(scriptOf(tlsPlan, "nginx")).to.contain("export REQUIRE_CERTIFICATE='no'");
        expect(scriptOf(tlsPlan, "nginx")).to.contain("listen 443 ssl;");
        expect(scriptOf(tlsPlan, "nginx-tls")).to.contain("export REQUIRE_CERTIFICATE='yes'");
        expect(scriptOf(httpPlan, "nginx")).not.to.contain("listen 443");
    });

    it("runs one app instance per requested port and stops the rest", () => {
        const app = scriptOf(buildPlan({ ...SETTINGS, appInstances: 3 }), "app");
        expect(app).to.contain("export APP_PORTS='3001 3002 3003'");
        expect(app).to.contain("export RETIRED_PORTS='3004 3005 3006 3007 3008'");
    });

    for (const [label, plan] of [
        ["HTTP", httpPlan],
        ["HTTPS", tlsPlan],
    ] as const) {
        describe(`every run script of the ${label} plan`, () => {
            for (const step of runSteps(plan)) {
                const script = stepScript(step, INPUTS);
                it(`${step.name}: starts with set -euo pipefail, ends printing changed:, passes shellcheck`, () => {
                    expect(script.split("\n").slice(0, 2)).to.deep.equal(["#!/usr/bin/env bash", "set -euo pipefail"]);
                    expect(script.trimEnd().split("\n").slice(-2)).to.deep.equal(['echo "changed: $changed"', "} </dev/null"]);
                    expect(shellcheck(script)).to.equal("");
                });

                it(`${step.name}: sets every setting the library helpers it calls read`, () => {
                    expect(settingsMissingForHelpers(script, SCRIPT_LIBRARY)).to.deep.equal([]);
                });

                it(`${step.name}: holds no password or key`, () => {
                    expect(script).not.to.match(/(PASSWORD|SECRET|TOKEN)[A-Z_]*=['"]?[A-Za-z0-9+/]{8,}/i);
                    expect(script).not.to.match(/\b[A-Fa-f0-9]{24,}\b/);
                    expect(script).not.to.contain("PRIVATE KEY");
                    expect(script).not.to.match(/IDENTIFIED BY '[^$]/);
                    expect(script).not.to.match(/--password[= ]/);
                });
            }
        });
    }

    it("generates the database password on the server and keeps it in a root-only file", () => {
        const database = scriptOf(httpPlan, "database");
        expect(database).to.contain("/dev/urandom");
        expect(database).to.contain('put_file "$APP_DATABASE_ENV_FILE" 600 root:root');
        expect(database).to.contain("export APP_DATABASE_ENV_FILE='/etc/webstack/app.env'");
    });
});

describe("the plan's inputs", () => {
    const plan = buildPlan({ ...SETTINGS, tls: TLS });

    it("render the domain into the site and certificate steps only, so the plan's steps are the same for any domain", () => {
        const other = { domain: "example.org" };
        const differing = runSteps(plan)
            .filter((step) => stepScript(step, INPUTS) !== stepScript(step, other))
            .map((step) => step.name);
        expect(differing).to.deep.equal(["nginx", "certbot", "nginx-tls"]);
        expect(scriptOf(plan, "nginx", other)).to.contain("server_name www.example.org;");
        expect(scriptOf(plan, "certbot", other)).to.contain("export CERT_DOMAINS='www.example.org'\n");
    });

    it("refuse a domain that is not an apex domain, naming it, when a step renders it", () => {
        expect(() => scriptOf(plan, "nginx", { domain: "www.example.com" })).to.throw(/domain "www\.example\.com" starts with "www\."/);
        expect(() => scriptOf(plan, "certbot", { domain: "Example" })).to.throw(/domain "Example" is not a lowercase domain name/);
    });

    it("put the app's environment into the app-environment step alone, written root-only and followed by a rolling restart", () => {
        const inputs = { ...INPUTS, appEnvironment: { API_TOKEN: "s3cr3t-t0ken-value" } };
        const holding = runSteps(plan)
            .filter((step) => stepScript(step, inputs).includes("s3cr3t-t0ken-value"))
            .map((step) => step.name);
        expect(holding).to.deep.equal(["app-environment"]);
        const script = scriptOf(plan, "app-environment", inputs);
        expect(script).to.contain('API_TOKEN="s3cr3t-t0ken-value"');
        expect(script).to.contain('put_content "$APP_ENVIRONMENT_FILE" 600 root:root "$APP_ENVIRONMENT"');
        expect(script).to.contain('"$ACTIVATE_COMMAND" --restart-all');
        expect(script).to.contain("# Write the app's environment: API_TOKEN.");
    });

    it("refuse an environment variable the platform sets, without quoting any value", () => {
        expect(() => scriptOf(plan, "app-environment", { ...INPUTS, appEnvironment: { DB_PASSWORD: "hunter2-secret" } }))
            .to.throw(/DB_PASSWORD is set by webstack/)
            .with.property("message")
            .that.does.not.contain("hunter2-secret");
    });
});

describe("changedSteps", () => {
    const applied = { plan: buildPlan(SETTINGS), inputs: INPUTS };

    it("names no step when nothing changed", () => {
        expect(changedSteps(applied, { plan: buildPlan(SETTINGS), inputs: { ...INPUTS } })).to.deep.equal([]);
    });

    it("names the steps that render the app instances when their number changes, and the app's environment step when a value does", () => {
        expect(changedSteps(applied, { plan: buildPlan({ ...SETTINGS, appInstances: 3 }), inputs: INPUTS })).to.deep.equal([
            "app",
            "nginx",
        ]);
        expect(
            changedSteps(applied, { plan: applied.plan, inputs: { ...INPUTS, appEnvironment: { API_TOKEN: "rotated" } } }),
        ).to.deep.equal(["app-environment"]);
    });

    it("names the nginx step alone when the API cache's time changes", () => {
        expect(changedSteps(applied, { plan: buildPlan({ ...SETTINGS, apiCacheSeconds: 0 }), inputs: INPUTS })).to.deep.equal(["nginx"]);
    });

    it("names a new release's upload and deploy, and the steps a plan gains", () => {
        const release = { ...SETTINGS.release, id: "fedcba987654", artifactPath: "/work/build/webstack-release-fedcba987654.tar.gz" };
        expect(changedSteps(applied, { plan: buildPlan({ ...SETTINGS, release }), inputs: INPUTS })).to.deep.equal([
            "upload-release",
            "deploy",
        ]);
        expect(changedSteps(applied, { plan: buildPlan({ ...SETTINGS, tls: TLS }), inputs: INPUTS })).to.include.members([
            "certbot",
            "nginx-tls",
        ]);
    });
});

describe("buildPlan's sshAccess", () => {
    it("adds, last, a step that authorizes exactly the keys the executor gives, once each and without comments", () => {
        const plan = buildPlan({ ...SETTINGS, tls: TLS, sshAccess: { user: "admin" } });
        expect(plan.at(-1)?.name).to.equal("ssh-access");
        const script = scriptOf(plan, "ssh-access", {
            ...INPUTS,
            authorizedKeys: ["ssh-ed25519 AAAAnew new@laptop", "ssh-ed25519 AAAAold", "ssh-ed25519 AAAAnew"],
        });
        expect(script).to.contain("export SSH_USER='admin'");
        expect(script).to.contain("ssh-ed25519 AAAAnew\nssh-ed25519 AAAAold\n'");
        expect(shellcheck(script)).to.equal("");
    });

    it("refuses to render no key at all, or something that is no public key, since either would lock the server", () => {
        const plan = buildPlan({ ...SETTINGS, sshAccess: { user: "admin" } });
        expect(() => scriptOf(plan, "ssh-access", { ...INPUTS, authorizedKeys: [] })).to.throw(/at least one; got none/);
        expect(() => scriptOf(plan, "ssh-access", { ...INPUTS, authorizedKeys: ["-----BEGIN OPENSSH PRIVATE KEY-----"] })).to.throw(
            /authorizedKeys must be OpenSSH public keys/,
        );
        expect(() => scriptOf(plan, "ssh-access")).to.throw(/needs the authorizedKeys input/);
    });

    it("is no part of a plan without it", () => {
        expect(buildPlan(SETTINGS).map((step) => step.name)).to.not.include("ssh-access");
    });
});

describe("stepHoldsSecrets", () => {
    it("is true of the app's environment step alone", () => {
        expect(
            buildPlan(SETTINGS)
                .filter(stepHoldsSecrets)
                .map((step) => step.name),
        ).to.deep.equal(["app-environment"]);
    });
});

describe("the installed commands", () => {
    const commands = {
        "webstack-activate": renderActivateCommand([3001, 3002]),
        "webstack-rollback": renderRollbackCommand(),
        "webstack-backup": renderBackupCommand(),
        "webstack-restore": renderRestoreCommand(),
        "webstack-ship-backups": renderShipBackupsCommand(),
        "webstack-report-metrics": renderReportMetricsCommand(),
        "webstack-maintenance": renderMaintenanceCommand(["203.0.113.7/32", "2001:db8::/64"]),
        "certbot deploy hook": renderCertbotDeployHook(),
    };
    for (const [name, command] of Object.entries(commands)) {
        it(`${name} is strict and passes shellcheck`, () => {
            expect(command.split("\n").slice(0, 2)).to.deep.equal(["#!/usr/bin/env bash", "set -euo pipefail"]);
            expect(shellcheck(command)).to.equal("");
        });

        it(`${name} sets every setting the library helpers it calls read`, () => {
            expect(settingsMissingForHelpers(command, SCRIPT_LIBRARY)).to.deep.equal([]);
        });
    }

    it("webstack-activate switches current atomically and checks each restarted instance's release and health path", () => {
        const activate = commands["webstack-activate"];
        expect(activate).to.contain('ln -sfn "$2" "$1.next"\n  mv -T "$1.next" "$1"');
        expect(activate).to.contain('readlink "/proc/$pid/cwd"');
        expect(activate).to.contain("export DEFAULT_HEALTH_PATH='/healthz'");
        expect(activate).to.contain("export APP_PORTS='3001 3002'");
    });

    it("the deploy hook validates the configuration before it reloads nginx", () => {
        expect(commands["certbot deploy hook"]).to.match(/nginx -t -q\n\s+systemctl reload nginx/);
    });

    it("webstack-backup dumps in one transaction through gzip and keeps seven", () => {
        expect(commands["webstack-backup"]).to.contain("mariadb-dump --single-transaction");
        expect(commands["webstack-backup"]).to.contain("export BACKUPS_KEPT='7'");
    });
});

describe("checkedServerSettings", () => {
    const cases: [string, ServerSettings, RegExp][] = [
        ["no instances", { ...SETTINGS, appInstances: 0 }, /appInstances is 0; expected a whole number from 1 to 8/],
        ["too many instances", { ...SETTINGS, appInstances: 9 }, /appInstances is 9/],
        ["a fractional instance count", { ...SETTINGS, appInstances: 1.5 }, /appInstances is 1.5/],
        ["a negative cache time", { ...SETTINGS, apiCacheSeconds: -1 }, /apiCacheSeconds is -1; expected a whole number from 0 to 60/],
        ["a cache time past a minute", { ...SETTINGS, apiCacheSeconds: 61 }, /apiCacheSeconds is 61; .* to 60/],
        [
            "a release id with a slash",
            { ...SETTINGS, release: { ...SETTINGS.release, id: "../x" } },
            /release\.id is "\.\.\/x"; expected 1 to 64 letters/,
        ],
        ["an empty artifact path", { ...SETTINGS, release: { ...SETTINGS.release, artifactPath: " " } }, /release\.artifactPath is empty/],
        [
            "a health path that is no path",
            { ...SETTINGS, release: { ...SETTINGS.release, healthPath: "healthz?x=1" } },
            /release\.healthPath "healthz\?x=1" must be a path starting with \//,
        ],
        ["a bad email", { ...SETTINGS, tls: { ...TLS, email: "ops" } }, /tls\.email "ops" is not an email address/],
        [
            "a plain-http directory",
            { ...SETTINGS, tls: { ...TLS, directoryUrl: "http://acme/dir" } },
            /tls\.directoryUrl "http:\/\/acme\/dir" is not an https URL/,
        ],
        [
            "a maintenance block that is no CIDR block",
            { ...SETTINGS, maintenance: { allowedCidrs: ["203.0.113.7"] } },
            /maintenance\.allowedCidrs has "203\.0\.113\.7", which is not a CIDR block/,
        ],
        [
            "a maintenance message on two lines",
            { ...SETTINGS, maintenance: { message: "a\nb" } },
            /maintenance\.message has a control character/,
        ],
        [
            "a window that is no day and time",
            { ...SETTINGS, maintenanceWindow: "Sun" },
            /maintenanceWindow is "Sun"; expected a day and a time of day in UTC/,
        ],
    ];
    for (const [label, settings, message] of cases) {
        it(`rejects ${label} with a message that names the field`, () => {
            expect(() => checkedServerSettings(settings)).to.throw(message);
            expect(() => buildPlan(settings)).to.throw(message);
        });
    }

    it("runs two app instances unless told otherwise", () => {
        expect(scriptOf(buildPlan({ release: SETTINGS.release }), "app")).to.contain("export APP_PORTS='3001 3002'");
    });

    it("keeps the API's answers a second unless told otherwise", () => {
        expect(scriptOf(buildPlan({ release: SETTINGS.release }), "nginx")).to.contain("proxy_cache_valid 200 1s;");
    });

    it("accepts valid settings as they are", () => {
        const settings = { ...SETTINGS, appInstances: 8, apiCacheSeconds: 0, tls: TLS };
        expect(checkedServerSettings(settings)).to.equal(settings);
    });
});
