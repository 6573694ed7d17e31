import { expect } from "chai";
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { buildFleetPlan, buildPlan, stepScript, type FleetInputs, type Plan, type RunStep } from "../../../provisioning";
import { planObjects } from "../../../components/fleet/firstBoot";
import { renderAppEnvironment } from "../../../provisioning/files/appEnvironment";
import {
    checkedCaBundle,
    renderAppUnitFleetDropIn,
    renderDatabaseCredentialsCommand,
    renderLoadBalancerTrust,
} from "../../../provisioning/files/fleet";
import { startAwsStandIn } from "../../support/awsStandIn";
import { SCRIPT_LIBRARY } from "../../../provisioning/script";
import { settingsMissingForHelpers, shellcheck, temporaryDirectory } from "../../support/shell";

const CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
const FLEET: FleetInputs = {
    region: "eu-central-1",
    loadBalancerCidrs: ["172.31.0.0/16"],
    database: {
        host: "webstack.abc.eu-central-1.rds.amazonaws.com",
        port: 3306,
        name: "webstack",
        masterSecretArn: "arn:aws:secretsmanager:eu-central-1:123456789012:secret:rds!db-1",
        appSecretArn: "arn:aws:secretsmanager:eu-central-1:123456789012:secret:web-app-db-credentials-AbCdEf",
        trustedCaPem: CA,
    },
};
const RELEASE = { id: "r1", artifactPath: "/dev/null", healthPath: "/healthz" };

function runStepNamed(name: string): RunStep {
    const step = buildFleetPlan({ release: RELEASE }).find((candidate) => candidate.name === name);
    if (step?.kind !== "run") {
        throw new Error(`no run step ${name}`);
    }
    return step;
}

describe("buildFleetPlan", () => {
    it("is a single server's plan without the database, its backups or a certificate, and with the fleet step before the app", () => {
        expect(buildFleetPlan({ release: RELEASE }).map((step) => step.name)).to.deep.equal([
            "bootstrap",
            "packages",
            "base",
            "hardening",
            "fleet",
            "app",
            "app-environment",
            "nginx",
            "upload-release",
            "deploy",
        ]);
        const single = buildPlan({ release: RELEASE }).map((step) => step.name);
        expect(single).to.include.members(["database", "backups"]);
    });

    it("installs no database server, and opens only HTTP: nobody logs in, and the load balancer terminates HTTPS", () => {
        const packages = stepScript(runStepNamed("packages"), { domain: "example.com" });
        expect(packages).to.match(/^export PACKAGES='[^']*\bnginx\b[^']*'$/m);
        expect(packages).not.to.contain("default-mysql-server");
        expect(stepScript(runStepNamed("base"), { domain: "example.com" })).to.contain("export FIREWALL_PORTS='80'\n");
    });

    it("serves the site behind the load balancer, answering its health check", () => {
        const nginx = stepScript(runStepNamed("nginx"), { domain: "example.com" });
        expect(nginx).to.contain("# Serve https://www.example.com behind the load balancer.");
        expect(nginx).to.contain("location = /webstack-alive {");
    });

    it("keeps the API's anonymous answers in each server's nginx, as long as a single server's", () => {
        const nginxOf = (plan: Plan<"fleet">) =>
            stepScript(plan.find((step) => step.name === "nginx") as RunStep, { domain: "example.com" });
        const fleetNginx = nginxOf(buildFleetPlan({ release: RELEASE, apiCacheSeconds: 7 }));
        expect(fleetNginx).to.contain(
            "location = /api/posts {\n        expires epoch;\n        proxy_cache webstack_api;\n        proxy_cache_valid 200 7s;",
        );
        expect(nginxOf(buildFleetPlan({ release: RELEASE, apiCacheSeconds: 0 }))).not.to.contain("proxy_cache");
        expect(() => buildFleetPlan({ release: RELEASE, apiCacheSeconds: 90 })).to.throw(/apiCacheSeconds is 90/);
    });

    it("needs the fleet input, and says so", () => {
        expect(() => stepScript(runStepNamed("fleet"), { domain: "example.com" })).to.throw(
            /Plan step "fleet" configures a fleet's server and needs the fleet input/,
        );
    });

    it("needs the fleet input in its type, so that applying it without one does not compile (tsc checks the expected errors)", () => {
        const plan = buildFleetPlan({ release: RELEASE });
        // @ts-expect-error a fleet's plan is applied with the fleet input
        const withoutFleet = () => planObjects(plan, { domain: "example.com" });
        // @ts-expect-error a fleet's plan is no plan for RemoteProvisioner, whose plans need no fleet input
        const asSingleServerPlan: Plan = plan;
        expect(planObjects(plan, { domain: "example.com", fleet: FLEET }).map((object) => object.step)).to.include("fleet");
        expect(withoutFleet).to.throw(/needs the fleet input/);
        expect(asSingleServerPlan).to.equal(plan);
    });

    it("renders the fleet step from the fleet input as a script that passes shellcheck", () => {
        const script = stepScript(runStepNamed("fleet"), { domain: "example.com", fleet: FLEET });
        expect(shellcheck(script)).to.equal("");
        expect(script).to.contain(
            "# Join the fleet: the database at webstack.abc.eu-central-1.rds.amazonaws.com:3306, the load balancer from 172.31.0.0/16.",
        );
        expect(script).to.contain("set_real_ip_from 172.31.0.0/16;");
    });

    it("sets, in every run step, every setting the library helpers the step calls read", () => {
        const missing = buildFleetPlan({ release: RELEASE })
            .filter((step): step is RunStep => step.kind === "run")
            .map((step) => [
                step.name,
                settingsMissingForHelpers(stepScript(step, { domain: "example.com", fleet: FLEET }), SCRIPT_LIBRARY),
            ])
            .filter(([, settings]) => settings.length > 0);
        expect(missing).to.deep.equal([]);
    });
});

describe("renderAppUnitFleetDropIn", () => {
    it("fetches the credentials as root (+) before every start of an instance", () => {
        expect(renderAppUnitFleetDropIn()).to.contain("[Service]\nExecStartPre=+/usr/local/sbin/webstack-database-credentials\n");
    });
});

describe("renderLoadBalancerTrust", () => {
    it("takes the client's address from X-Forwarded-For only on connections from the load balancer's blocks", () => {
        expect(renderLoadBalancerTrust(["10.0.0.0/16", "2600:1f18::/56"])).to.equal(
            [
                "# Managed by webstack: the load balancer's addresses, whose X-Forwarded-For names the client.",
                "set_real_ip_from 10.0.0.0/16;",
                "set_real_ip_from 2600:1f18::/56;",
                "real_ip_header X-Forwarded-For;",
                "real_ip_recursive on;",
                "",
            ].join("\n"),
        );
    });

    it("refuses no blocks, or a block that is not CIDR, naming what it expected", () => {
        expect(() => renderLoadBalancerTrust([])).to.throw(/expected the VPC's address blocks, at least one/);
        expect(() => renderLoadBalancerTrust(["172.31.0.0"])).to.throw(/each a CIDR block such as 172.31.0.0\/16/);
    });
});

describe("checkedCaBundle", () => {
    it("keeps a PEM bundle, ending in one newline", () => {
        expect(checkedCaBundle(`\n${CA}\n\n`)).to.equal(CA);
    });

    it("refuses anything else, saying what to give", () => {
        expect(() => checkedCaBundle("not a certificate")).to.throw(/database.trustedCaPem is not a PEM bundle of certificates/);
    });
});

describe("webstack-database-credentials, against stand-ins for Secrets Manager, the metadata service and the database client", () => {
    let directory: string;
    const paths = () => ({
        appDatabaseEnvFile: path.join(directory, "etc", "app.env"),
        migratorEnvFile: path.join(directory, "etc", "migrator.env"),
        caFile: path.join(directory, "database-ca.pem"),
        currentLink: path.join(directory, "current"),
        activateCommand: path.join(directory, "activate"),
        databaseClient: path.join(directory, "mariadb"),
    });
    /** What the database client was asked: its arguments, MYSQL_PWD and its statements, one call after another. */
    const clientCalls = () =>
        fs.existsSync(path.join(directory, "client-calls")) ? fs.readFileSync(path.join(directory, "client-calls"), "utf8") : "";

    /**
     * A stand-in for MariaDB's client that records each call, and fails when told to: it refuses the
     * password, or does not answer (MariaDB's "lost connection" error) on its first `silentCalls` calls.
     */
    function databaseClient(answers: "ok" | "refuses" | { silentCalls: number }) {
        const record = `{ echo "args: $*"; echo "MYSQL_PWD: $MYSQL_PWD"; cat; } >> ${directory}/client-calls`;
        const outcome =
            answers === "ok"
                ? "exit 0"
                : answers === "refuses"
                  ? "echo 'ERROR 1045 (28000): Access denied for user' >&2; exit 1"
                  : [
                        `calls=$(grep -c '^args: ' ${directory}/client-calls)`,
                        `if (( calls <= ${answers.silentCalls} )); then echo "ERROR 2013 (HY000): Lost connection to server at 'handshake: reading initial communication packet', system error: 110" >&2; exit 1; fi`,
                    ].join("\n");
        fs.writeFileSync(paths().databaseClient, `#!/bin/bash\n${record}\n${outcome}\n`, { mode: 0o755 });
    }

    beforeEach(() => {
        directory = temporaryDirectory("credentials");
        fs.writeFileSync(paths().activateCommand, `#!/bin/bash\necho "$*" >> ${directory}/activated\n`, { mode: 0o755 });
        fs.symlinkSync(path.join(directory, "releases", "r7"), paths().currentLink);
        databaseClient("ok");
    });

    afterEach(() => fs.rmSync(directory, { recursive: true, force: true }));

    function run(secrets: Map<string, string> | undefined, ...args: string[]) {
        return startAwsStandIn({ secrets }).then(async (standIn) => {
            const command = path.join(directory, "webstack-database-credentials");
            const endpoints =
                secrets === undefined
                    ? { imds: "http://127.0.0.1:9", secretsManager: "http://127.0.0.1:9" }
                    : { imds: standIn.url, secretsManager: standIn.url };
            fs.writeFileSync(command, renderDatabaseCredentialsCommand(FLEET.region, FLEET.database, endpoints, paths()), { mode: 0o700 });
            try {
                const result = await new Promise<{ status: number | null; output: string }>((resolve) => {
                    const child = spawn("bash", [command, ...args], { stdio: ["ignore", "pipe", "pipe"] });
                    let output = "";
                    child.stdout.on("data", (chunk) => (output += chunk));
                    child.stderr.on("data", (chunk) => (output += chunk));
                    child.on("close", (status) => resolve({ status, output }));
                });
                return { ...result, requests: standIn.requests };
            } finally {
                standIn.close();
            }
        });
    }

    const MASTER_PASSWORD = "m@ster#pass";
    const secretsOf = (appPassword: string, masterPassword = MASTER_PASSWORD) =>
        new Map([
            [FLEET.database.appSecretArn, JSON.stringify({ username: "webstack_app", password: appPassword })],
            [FLEET.database.masterSecretArn, JSON.stringify({ username: "webstack", password: masterPassword })],
        ]);
    const quoted = (value: string) => renderAppEnvironment({ X: value }).split("\n")[1].slice("X=".length);

    it("passes shellcheck and sets every setting the library helpers it calls read", () => {
        const command = renderDatabaseCredentialsCommand(FLEET.region, FLEET.database);
        expect(shellcheck(command)).to.equal("");
        expect(settingsMissingForHelpers(command, SCRIPT_LIBRARY)).to.deep.equal([]);
    });

    it("writes the app's settings with its own user, and the migrations' with the master user, each root's alone and quoted as the app's own environment is", async () => {
        const password = `p$a"s\\s\`w'o%rd`;
        const result = await run(secretsOf(password));
        expect(result.status, result.output).to.equal(0);
        expect(result.output).not.to.contain("p$a");
        expect(result.output).not.to.contain(MASTER_PASSWORD);
        expect(fs.readFileSync(paths().appDatabaseEnvFile, "utf8")).to.equal(
            [
                "DB_HOST=webstack.abc.eu-central-1.rds.amazonaws.com",
                "DB_PORT=3306",
                "DB_NAME=webstack",
                `DB_TLS_CA_FILE=${paths().caFile}`,
                'DB_USER="webstack_app"',
                `DB_PASSWORD=${quoted(password)}`,
                "",
            ].join("\n"),
        );
        expect(fs.readFileSync(paths().migratorEnvFile, "utf8")).to.equal(`DB_USER="webstack"\nDB_PASSWORD=${quoted(MASTER_PASSWORD)}\n`);
        for (const file of [paths().appDatabaseEnvFile, paths().migratorEnvFile]) {
            expect(fs.statSync(file).mode & 0o777).to.equal(0o600);
        }
    });

    it("makes the app's user in the database as the master user over checked TLS, with its password and queries on its database alone", async () => {
        const result = await run(secretsOf(`it's\\new`));
        expect(result.status, result.output).to.equal(0);
        expect(clientCalls()).to.equal(
            [
                `args: --host=webstack.abc.eu-central-1.rds.amazonaws.com --port=3306 --user=webstack --ssl-ca=${paths().caFile} --ssl-verify-server-cert --connect-timeout=10 --batch`,
                `MYSQL_PWD: ${MASTER_PASSWORD}`,
                "CREATE USER IF NOT EXISTS 'webstack_app'@'%' IDENTIFIED BY 'it\\'s\\\\new' REQUIRE SSL;",
                "ALTER USER 'webstack_app'@'%' IDENTIFIED BY 'it\\'s\\\\new' REQUIRE SSL;",
                "GRANT DELETE, INSERT, SELECT, UPDATE ON `webstack`.* TO 'webstack_app'@'%';",
                "",
            ].join("\n"),
        );
    });

    it("asks Secrets Manager for both secrets with requests signed by the instance role's credentials", async () => {
        const result = await run(secretsOf("first"));
        expect(result.requests.map((request) => JSON.parse(request.body))).to.deep.equal([
            { SecretId: FLEET.database.appSecretArn },
            { SecretId: FLEET.database.masterSecretArn },
        ]);
        for (const request of result.requests) {
            expect(request.headers.authorization).to.match(
                /^AWS4-HMAC-SHA256 Credential=AKIDSTANDIN\/\d{8}\/eu-central-1\/secretsmanager\/aws4_request/,
            );
            expect(request.headers["x-amz-security-token"]).to.equal("session-token");
        }
    });

    it("touches the database only when the app's credentials change, and with --restart-if-changed restarts the instances one at a time then", async () => {
        await run(secretsOf("first"));
        await run(secretsOf("first"), "--restart-if-changed");
        expect(clientCalls().match(/^args:/gm)).to.have.length(1);
        expect(fs.existsSync(path.join(directory, "activated"))).to.equal(false);
        const rotated = await run(secretsOf("rotated"), "--restart-if-changed");
        expect(rotated.status, rotated.output).to.equal(0);
        expect(clientCalls().match(/^args:/gm)).to.have.length(2);
        expect(fs.readFileSync(path.join(directory, "activated"), "utf8")).to.equal("--restart-all r7\n");
    });

    it("follows a rotated master password for the migrations without touching the app or the database", async () => {
        await run(secretsOf("first"));
        const rotated = await run(secretsOf("first", "rotated-by-rds"), "--restart-if-changed");
        expect(rotated.status, rotated.output).to.equal(0);
        expect(fs.readFileSync(paths().migratorEnvFile, "utf8")).to.contain('DB_PASSWORD="rotated-by-rds"');
        expect(clientCalls().match(/^args:/gm)).to.have.length(1);
        expect(fs.existsSync(path.join(directory, "activated"))).to.equal(false);
    });

    it("keeps the app's credentials while the database refuses the new password, and sets it on a later run", async () => {
        await run(secretsOf("first"));
        const before = fs.readFileSync(paths().appDatabaseEnvFile, "utf8");
        databaseClient("refuses");
        const refused = await run(secretsOf("second"), "--restart-if-changed");
        expect(refused.status, refused.output).to.equal(0);
        expect(refused.output).to.contain(
            "did not take the app user's password from the master user; the app keeps the credentials it has",
        );
        expect(fs.readFileSync(paths().appDatabaseEnvFile, "utf8")).to.equal(before);
        databaseClient("ok");
        const later = await run(secretsOf("second"), "--restart-if-changed");
        expect(later.status, later.output).to.equal(0);
        expect(fs.readFileSync(paths().appDatabaseEnvFile, "utf8")).to.contain('DB_PASSWORD="second"');
    });

    it("asks a database that does not answer yet again, and makes the app's user once it answers", async () => {
        databaseClient({ silentCalls: 1 });
        const result = await run(secretsOf("first"));
        expect(result.status, result.output).to.equal(0);
        expect(result.output).to.contain("does not answer yet; asking again in 2 s (attempt 2 of 6)");
        expect(clientCalls().match(/^args: /gm)).to.have.length(2);
        expect(fs.readFileSync(paths().appDatabaseEnvFile, "utf8")).to.contain('DB_PASSWORD="first"');
    });

    it("fails at first boot, asking once, when the database refuses the app's user, writing no app settings", async () => {
        databaseClient("refuses");
        const result = await run(secretsOf("first"));
        expect(result.status).to.equal(1);
        expect(result.output).to.contain("ERROR 1045 (28000): Access denied for user");
        expect(result.output).to.contain("did not take the app user's password from the master user.");
        expect(clientCalls().match(/^args: /gm)).to.have.length(1);
        expect(fs.existsSync(paths().appDatabaseEnvFile)).to.equal(false);
    });

    it("keeps the credentials it has when Secrets Manager does not answer", async () => {
        await run(secretsOf("first"));
        const before = fs.readFileSync(paths().appDatabaseEnvFile, "utf8");
        const result = await run(undefined);
        expect(result.status).to.equal(0);
        expect(result.output).to.contain("the app keeps the credentials it has");
        expect(fs.readFileSync(paths().appDatabaseEnvFile, "utf8")).to.equal(before);
    });

    it("fails, naming the secret and the permission, when it has no credentials and cannot get them", async () => {
        const result = await run(new Map([[FLEET.database.appSecretArn, JSON.stringify({ username: "webstack_app", password: "p" })]]));
        expect(result.status).to.equal(1);
        expect(result.output).to.contain(
            `Secrets Manager gave no credentials for ${FLEET.database.masterSecretArn}: the instance role must be allowed secretsmanager:GetSecretValue`,
        );
        expect(fs.existsSync(paths().appDatabaseEnvFile)).to.equal(false);
    });

    it("fails, naming the secret, when a secret is not a database user's JSON", async () => {
        const secrets = secretsOf("first");
        secrets.set(FLEET.database.appSecretArn, "not json");
        const result = await run(secrets);
        expect(result.status).to.equal(1);
        expect(result.output).to.contain(`the secret ${FLEET.database.appSecretArn} is not the JSON of a database user`);
    });
});
