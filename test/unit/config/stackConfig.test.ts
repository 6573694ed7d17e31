import { expect } from "chai";
import {
    parseStackConfig,
    refusePreviewPlaceholder,
    PREVIEW_KEY_PLACEHOLDER,
    rawStackConfig,
    RawConfig,
    ConfigError,
} from "../../../config/stackConfig";
import { devStackConfig } from "../../support/devStack";
import { cidrFamily } from "../../../provisioning/formats";
import { WEB_SERVER_DEFAULTS } from "../../../components/webServer";
import { LETS_ENCRYPT_DIRECTORY_URL } from "../../../provisioning";
import { DEFAULT_APP_INSTANCES, MAX_APP_INSTANCES } from "../../../provisioning/layout";

const VALID: RawConfig = {
    domain: "example.com",
    sshPublicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHx5c2FuZGJveGtleWZvcnRlc3RzAAAAAAAAAAAAAAAA dev@laptop",
    sshAllowedCidrs: JSON.stringify(["203.0.113.7/32"]),
};

/** The problems parseStackConfig reports for a config, or [] when it accepts it. */
function problemsOf(raw: RawConfig, hasPrivateKey = true): readonly string[] {
    try {
        parseStackConfig(raw, hasPrivateKey);
        return [];
    } catch (error) {
        expect(error).to.be.instanceOf(ConfigError);
        return (error as ConfigError).problems;
    }
}

function expectOneProblem(raw: RawConfig, ...fragments: string[]): void {
    const problems = problemsOf(raw);
    expect(problems, JSON.stringify(raw)).to.have.length(1);
    for (const fragment of fragments) {
        expect(problems[0]).to.include(fragment);
    }
}

describe("parseStackConfig", () => {
    it("passes unset server settings through for the component and the plan to default", () => {
        const settings = parseStackConfig(VALID, true);
        expect(settings.hostName).to.equal("www.example.com");
        expect(settings.sshUser).to.equal("admin");
        expect(settings.appInstances).to.equal(undefined);
        expect(settings.appEnvironment).to.equal(undefined);
        expect(settings.provision).to.equal(true);
        expect(settings.tls).to.equal(undefined);
        expect(settings.hosting).to.deep.include({
            kind: "new-server",
            instanceType: undefined,
            rootVolumeSizeGiB: undefined,
            createApexRecord: false,
            dnsTtl: undefined,
            dailySnapshots: undefined,
            backupRetentionDays: undefined,
        });
    });

    it("reads the app's environment as an object and names a bad variable without showing any value", () => {
        expect(parseStackConfig({ ...VALID, appEnvironment: '{"API_TOKEN":"t0ken"}' }, true).appEnvironment).to.deep.equal({
            API_TOKEN: "t0ken",
        });
        const problems = problemsOf({ ...VALID, appEnvironment: '{"DB_USER":"hidden-value","9X":"other-hidden"}' });
        expect(problems.join("\n"))
            .to.contain("webstack:appEnvironment: DB_USER is set by webstack")
            .and.to.contain('"9X" is not a variable name');
        expect(problems.join("\n")).not.to.contain("hidden");
        expect(problemsOf({ ...VALID, appEnvironment: '["hidden-list"]' }).join("\n"))
            .to.contain("webstack:appEnvironment is not an object of names and values")
            .and.not.to.contain("hidden");
    });

    it("quotes the owners' defaults as the examples of its messages", () => {
        expectOneProblem({ ...VALID, rootVolumeSizeGiB: "4" }, `for example ${WEB_SERVER_DEFAULTS.rootVolumeSizeGiB}`);
        expectOneProblem({ ...VALID, appInstances: "0" }, `from 1 to ${MAX_APP_INSTANCES}, for example ${DEFAULT_APP_INSTANCES}`);
    });

    it("accepts the committed Pulumi.dev.yaml once the private key secret is set", () => {
        const { raw, hasPrivateKey } = rawStackConfig({ ...devStackConfig(), "webstack:sshPrivateKey": "secret" });
        expect(() => parseStackConfig(raw, hasPrivateKey)).to.not.throw();
    });

    it("rejects a domain that is not a domain, naming the key, the value and an example", () => {
        expectOneProblem({ ...VALID, domain: "not a domain" }, "webstack:domain", '"not a domain"', "example.com");
        expectOneProblem({ ...VALID, domain: "-bad-.com" }, "webstack:domain");
        expectOneProblem({ ...VALID, domain: "localhost" }, "webstack:domain");
    });

    it("rejects a domain given with www in front", () => {
        expectOneProblem(
            { ...VALID, domain: "www.example.com" },
            `webstack:domain is "www.example.com"; it starts with "www."; give the apex domain (example.com)`,
        );
    });

    it("requires the domain", () => {
        const { domain: _domain, ...withoutDomain } = VALID;
        expectOneProblem(withoutDomain, "webstack:domain is missing", "pulumi config set webstack:domain");
    });

    it("refuses SSH from the whole internet unless allowSshFromAnywhere is true", () => {
        expectOneProblem({ ...VALID, sshAllowedCidrs: '["0.0.0.0/0"]' }, "0.0.0.0/0", "allowSshFromAnywhere");
        expectOneProblem({ ...VALID, sshAllowedCidrs: '["::/0"]' }, "::/0");
        expect(problemsOf({ ...VALID, sshAllowedCidrs: '["0.0.0.0/0", "::/0"]', allowSshFromAnywhere: "true" })).to.deep.equal([]);
    });

    it("rejects SSH CIDR lists that are missing, empty, not lists or hold bad blocks", () => {
        const { sshAllowedCidrs: _cidrs, ...withoutCidrs } = VALID;
        expectOneProblem(withoutCidrs, "webstack:sshAllowedCidrs is missing");
        expectOneProblem({ ...VALID, sshAllowedCidrs: "[]" }, "webstack:sshAllowedCidrs is missing");
        expect(problemsOf({ ...VALID, sshAllowedCidrs: "203.0.113.7/32" }).join()).to.include("expected a list of strings");
        expectOneProblem({ ...VALID, sshAllowedCidrs: '["203.0.113.300/32"]' }, '"203.0.113.300/32"', "not a CIDR block");
        expectOneProblem({ ...VALID, sshAllowedCidrs: '["203.0.113.7"]' }, "not a CIDR block");
    });

    it("accepts IPv6 SSH blocks", () => {
        expect(problemsOf({ ...VALID, sshAllowedCidrs: '["2001:db8::/64", "203.0.113.0/24"]' })).to.deep.equal([]);
    });

    it("checks the instance type's shape", () => {
        expectOneProblem({ ...VALID, instanceType: "tiny" }, "webstack:instanceType", '"tiny"', "t3.micro");
        expectOneProblem({ ...VALID, instanceType: "T3.MICRO" }, "webstack:instanceType");
        expect(parseStackConfig({ ...VALID, instanceType: "m7g.2xlarge" }, true).hosting).to.include({ instanceType: "m7g.2xlarge" });
    });

    it("accepts the ed25519 and rsa public keys that EC2 imports, and nothing else", () => {
        for (const key of [
            "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7 me",
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHx5c2FuZGJveGtleWZvcnRlc3RzAAAAAAAAAAAAAAAA",
        ]) {
            expect(problemsOf({ ...VALID, sshPublicKey: key }), key).to.deep.equal([]);
        }
        expectOneProblem(
            { ...VALID, sshPublicKey: "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTY=" },
            "webstack:sshPublicKey",
            "EC2 imports ssh-ed25519 and ssh-rsa keys only",
        );
        expectOneProblem({ ...VALID, sshPublicKey: "ssh-dss AAAAB3NzaC1kc3MAAACBAP" }, "webstack:sshPublicKey", "ssh-ed25519");
        expectOneProblem({ ...VALID, sshPublicKey: "-----BEGIN OPENSSH PRIVATE KEY-----" }, "webstack:sshPublicKey");
    });

    it("bounds the root volume size", () => {
        expectOneProblem({ ...VALID, rootVolumeSizeGiB: "4" }, "webstack:rootVolumeSizeGiB", "from 8 to 1024");
        expectOneProblem({ ...VALID, rootVolumeSizeGiB: "2048" }, "webstack:rootVolumeSizeGiB");
        expectOneProblem({ ...VALID, rootVolumeSizeGiB: "ten" }, "webstack:rootVolumeSizeGiB");
        expect(parseStackConfig({ ...VALID, rootVolumeSizeGiB: "8" }, true).hosting).to.include({ rootVolumeSizeGiB: 8 });
    });

    it("bounds the number of daily snapshots, 0 turning them off", () => {
        expect(parseStackConfig({ ...VALID, dailySnapshots: "14" }, true).hosting).to.include({ dailySnapshots: 14 });
        expect(parseStackConfig({ ...VALID, dailySnapshots: "0" }, true).hosting).to.include({ dailySnapshots: 0 });
        expectOneProblem({ ...VALID, dailySnapshots: "-1" }, "webstack:dailySnapshots", "from 0 to 1000");
    });

    it("bounds the days the backup bucket keeps backups from 1 to 3650", () => {
        expect(parseStackConfig({ ...VALID, backupRetentionDays: "30" }, true).hosting).to.include({ backupRetentionDays: 30 });
        expectOneProblem({ ...VALID, backupRetentionDays: "0" }, "webstack:backupRetentionDays", "from 1 to 3650");
    });

    it("bounds the number of app instances", () => {
        expectOneProblem({ ...VALID, appInstances: "0" }, "webstack:appInstances", "from 1 to 8");
        expectOneProblem({ ...VALID, appInstances: "9" }, "webstack:appInstances");
        expectOneProblem({ ...VALID, appInstances: "1.5" }, "webstack:appInstances");
        expect(parseStackConfig({ ...VALID, appInstances: "8" }, true).appInstances).to.equal(8);
    });

    it("bounds the API cache's seconds from 0, which turns it off, to 60, and leaves it unset for the plan to default", () => {
        expectOneProblem({ ...VALID, apiCacheSeconds: "-1" }, "webstack:apiCacheSeconds", "from 0 to 60, for example 1");
        expectOneProblem({ ...VALID, apiCacheSeconds: "61" }, "webstack:apiCacheSeconds");
        expectOneProblem({ ...VALID, apiCacheSeconds: "0.5" }, "webstack:apiCacheSeconds");
        expect(parseStackConfig({ ...VALID, apiCacheSeconds: "0" }, true).apiCacheSeconds).to.equal(0);
        expect(parseStackConfig(VALID, true).apiCacheSeconds).to.equal(undefined);
    });

    it("requires the private key when provisioning is on, and not when it is off", () => {
        expect(problemsOf(VALID, false).join()).to.include("pulumi config set --secret webstack:sshPrivateKey");
        expect(problemsOf({ ...VALID, provision: "false" }, false)).to.deep.equal([]);
    });

    it("rejects booleans that are not true or false", () => {
        expectOneProblem({ ...VALID, createApexRecord: "yes" }, "webstack:createApexRecord", "true or false");
    });

    it("rejects keys the program does not know, listing the ones it does", () => {
        expectOneProblem({ ...VALID, instancetype: "t3.micro" }, "webstack:instancetype is not a setting", "instanceType");
    });

    it("reports every problem at once", () => {
        const problems = problemsOf({ domain: "bad domain", appInstances: "99", sshAllowedCidrs: '["0.0.0.0/0"]' }, false);
        expect(problems.length).to.equal(5);
    });

    it("validates the AMI, subnet and hosted zone overrides", () => {
        expectOneProblem({ ...VALID, amiId: "debian-13" }, "webstack:amiId", "ami-0123456789abcdef0");
        expectOneProblem({ ...VALID, hostedZoneId: "zone-1" }, "webstack:hostedZoneId");
        expectOneProblem({ ...VALID, subnetId: "subnet-1" }, "webstack:subnetId", "subnet-0123456789abcdef0");
        expect(parseStackConfig({ ...VALID, amiId: "ami-0123456789abcdef0", hostedZoneId: "Z123ABC" }, true).hosting).to.include({
            amiId: "ami-0123456789abcdef0",
            hostedZoneId: "Z123ABC",
        });
    });

    describe("maintenance mode", () => {
        it("is left out unless a maintenance key is set, and off by default when one is", () => {
            expect(parseStackConfig(VALID, true).maintenance).to.equal(undefined);
            expect(parseStackConfig({ ...VALID, maintenanceAllowedCidrs: '["198.51.100.0/24"]' }, true).maintenance).to.deep.equal({
                enabled: false,
                message: undefined,
                allowedCidrs: ["198.51.100.0/24"],
            });
        });

        it("reads the switch, the message and the allowed blocks, IPv6 among them", () => {
            const raw = {
                ...VALID,
                maintenance: "true",
                maintenanceMessage: "Back at 15:00 UTC.",
                maintenanceAllowedCidrs: '["203.0.113.7/32", "2001:db8::/64"]',
            };
            expect(parseStackConfig(raw, true).maintenance).to.deep.equal({
                enabled: true,
                message: "Back at 15:00 UTC.",
                allowedCidrs: ["203.0.113.7/32", "2001:db8::/64"],
            });
        });

        it("names the key and an example for allowed blocks that are not CIDR blocks, and for a list that is no list", () => {
            expectOneProblem(
                { ...VALID, maintenanceAllowedCidrs: '["203.0.113.7"]' },
                'webstack:maintenanceAllowedCidrs has "203.0.113.7", which is not a CIDR block; expected for example 203.0.113.7/32 or 2001:db8::/64.',
            );
            expectOneProblem(
                { ...VALID, maintenanceAllowedCidrs: "203.0.113.7/32" },
                "webstack:maintenanceAllowedCidrs is",
                "expected a list of strings, for example [\"203.0.113.7/32\"] (pulumi config set --path 'webstack:maintenanceAllowedCidrs[0]' 203.0.113.7/32)",
            );
        });

        it("refuses a switch that is not true or false, and a message on two lines or past the limit", () => {
            expectOneProblem({ ...VALID, maintenance: "yes" }, 'webstack:maintenance is "yes"; expected true or false.');
            expectOneProblem({ ...VALID, maintenanceMessage: "a\nb" }, "webstack:maintenanceMessage has a control character");
            expectOneProblem({ ...VALID, maintenanceMessage: "x".repeat(151) }, "webstack:maintenanceMessage is 151 characters long");
        });

        it("takes at most five allowed blocks with the ha topology, the load balancer rule's limit", () => {
            const six = JSON.stringify([
                "10.0.0.0/8",
                "172.16.0.0/12",
                "192.168.0.0/16",
                "198.51.100.0/24",
                "203.0.113.0/24",
                "2001:db8::/32",
            ]);
            expect(problemsOf({ ...VALID, maintenanceAllowedCidrs: six })).to.deep.equal([]);
            const problems = problemsOf({ domain: "example.com", topology: "ha", maintenanceAllowedCidrs: six }, false);
            expect(problems).to.deep.equal([
                "webstack:maintenanceAllowedCidrs has 6 blocks; the load balancer's rule takes 5 at most: join them into wider blocks.",
            ]);
        });
    });

    describe("server generations", () => {
        it("keeps the one server of before when unset, and reads the list the one that serves first", () => {
            expect(parseStackConfig(VALID, true).hosting).to.not.have.property("serverGenerations");
            expect(parseStackConfig({ ...VALID, serverGenerations: "2, 1" }, true).hosting).to.deep.include({ serverGenerations: [2, 1] });
        });

        it("refuses what is not a list of servers, with the example", () => {
            expectOneProblem(
                { ...VALID, serverGenerations: "next" },
                'webstack:serverGenerations is "next"; expected',
                'for example "2,1"',
            );
        });

        it("refuses a move of a server it does not configure, or of a server it does not create", () => {
            expect(problemsOf({ ...VALID, serverGenerations: "2,1", acmeEmail: "ops@example.com" })).to.deep.equal([]);
            expectOneProblem(
                { ...VALID, serverGenerations: "2,1", provision: "false" },
                "webstack:serverGenerations lists 2 servers",
                "webstack:provision is false",
            );
            expect(problemsOf({ domain: "example.com", existingServerHost: "203.0.113.10", serverGenerations: "2,1" })).to.deep.equal([
                "webstack:serverGenerations is set with webstack:existingServerHost; the stack moves the site only between EC2 instances it creates. Remove it: pulumi config rm webstack:serverGenerations",
            ]);
        });

        it("is refused by a fleet, whose servers Auto Scaling replaces", () => {
            expect(problemsOf({ domain: "example.com", topology: "ha", serverGenerations: "2,1" }, false).join("\n")).to.include(
                "webstack:serverGenerations",
            );
        });
    });

    describe("maintenance window", () => {
        it("is none by default, and written the canonical way when set, for either topology", () => {
            expect(parseStackConfig(VALID, true).maintenanceWindow).to.equal(undefined);
            expect(parseStackConfig({ ...VALID, maintenanceWindow: "sun 3:00" }, true).maintenanceWindow).to.equal("Sun 03:00");
            expect(
                parseStackConfig({ domain: "example.com", topology: "ha", maintenanceWindow: "Wed 04:30" }, false).maintenanceWindow,
            ).to.equal("Wed 04:30");
        });

        it("refuses what is not a day and a time, with the example", () => {
            expectOneProblem(
                { ...VALID, maintenanceWindow: "Sunday 3am" },
                'webstack:maintenanceWindow is "Sunday 3am"; expected a day and a time of day in UTC, for example "Sun 03:00"',
            );
        });

        it("refuses, for a fleet only, a window whose database hour would overlap RDS's daily backup", () => {
            expect(problemsOf({ ...VALID, maintenanceWindow: "Sun 01:30" })).to.deep.equal([]);
            expect(problemsOf({ domain: "example.com", topology: "ha", maintenanceWindow: "Sun 01:30" }, false)).to.deep.equal([
                'webstack:maintenanceWindow is "Sun 01:30"; the database\'s hour of maintenance from it would overlap its daily backup (02:00-02:30 UTC), which RDS refuses: start it at 01:00 or earlier, or at 02:30 or later, for example "Sun 03:00".',
            ]);
        });
    });

    describe("alerts", () => {
        it("passes an alert email on to the server, and has none by default", () => {
            expect(parseStackConfig({ ...VALID, alertEmail: "ops@example.com" }, true).hosting).to.include({
                alertEmail: "ops@example.com",
            });
            expect(parseStackConfig(VALID, true).hosting).to.include({ alertEmail: undefined });
        });

        it("rejects an alert email that is not one, and alerts for a server it does not create", () => {
            expectOneProblem({ ...VALID, alertEmail: "ops" }, "webstack:alertEmail", "ops@example.com");
            expectOneProblem(
                { domain: "example.com", existingServerHost: "198.18.7.2", alertEmail: "ops@example.com" },
                "webstack:alertEmail",
                "pulumi config rm webstack:alertEmail",
            );
        });
    });

    describe("HTTPS settings", () => {
        it("turns HTTPS on with an ACME email, against Let's Encrypt by default", () => {
            expect(parseStackConfig({ ...VALID, acmeEmail: "ops@example.com" }, true).tls).to.deep.equal({
                email: "ops@example.com",
                directoryUrl: LETS_ENCRYPT_DIRECTORY_URL,
            });
        });

        it("takes a directory URL override for staging or tests", () => {
            const directoryUrl = "https://acme-staging-v02.api.letsencrypt.org/directory";
            expect(
                parseStackConfig({ ...VALID, acmeEmail: "ops@example.com", acmeDirectoryUrl: directoryUrl }, true).tls?.directoryUrl,
            ).to.equal(directoryUrl);
        });

        it("rejects an invalid email or a directory URL that is not https", () => {
            expectOneProblem({ ...VALID, acmeEmail: "ops-at-example.com" }, "webstack:acmeEmail", "admin@example.com");
            expectOneProblem(
                { ...VALID, acmeEmail: "ops@example.com", acmeDirectoryUrl: "http://acme.example/dir" },
                "webstack:acmeDirectoryUrl",
                "https",
            );
            expectOneProblem({ ...VALID, acmeEmail: "ops@example.com", acmeDirectoryUrl: "not a url" }, "webstack:acmeDirectoryUrl");
        });

        it("rejects a directory URL without an email, since the email is the switch", () => {
            expectOneProblem({ ...VALID, acmeDirectoryUrl: "https://acme.example/dir" }, "webstack:acmeEmail");
        });
    });

    describe("an existing server", () => {
        it("needs no AWS settings, only the host and the private key", () => {
            const settings = parseStackConfig({ domain: "example.com", existingServerHost: "198.18.7.2" }, true);
            expect(settings.hosting).to.deep.equal({ kind: "existing-server", host: "198.18.7.2" });
            expect(settings.provision).to.equal(true);
        });

        it("rejects a host that is neither an address nor a name", () => {
            expectOneProblem({ domain: "example.com", existingServerHost: "not a host!" }, "webstack:existingServerHost");
        });

        it("needs a way to log in: an ssh-agent, or the private key, naming both", () => {
            const existing = { domain: "example.com", existingServerHost: "198.18.7.2" };
            expect(problemsOf(existing, false).join()).to.match(
                /no ssh-agent runs \(SSH_AUTH_SOCK is unset\) and webstack:sshPrivateKey is not set\. .*ssh-add .*pulumi config set --secret webstack:sshPrivateKey/,
            );
            expect(
                parseStackConfig(existing, false, { sshAgent: true, previewPlaceholder: false }).provision,
                "an agent is enough",
            ).to.equal(true);
        });

        it("sends its backups to a bucket of its own, named with its region", () => {
            const existing = { domain: "example.com", existingServerHost: "198.18.7.2" };
            const settings = parseStackConfig({ ...existing, backupBucket: "my-site-backups", backupBucketRegion: "eu-central-1" }, true);
            expect(settings.hosting).to.deep.include({ backupBucket: { bucket: "my-site-backups", region: "eu-central-1" } });
            expectOneProblem({ ...existing, backupBucket: "my-site-backups" }, "webstack:backupBucketRegion is missing", "go together");
            expectOneProblem({ ...existing, backupBucket: "My_Bucket", backupBucketRegion: "eu-central-1" }, "webstack:backupBucket");
        });

        it("refuses a bucket for a server the stack creates, which gets its own", () => {
            expectOneProblem({ ...VALID, backupBucket: "my-site-backups" }, "webstack:backupBucket goes with webstack:existingServerHost");
        });
    });
    describe("the ha topology", () => {
        const HA: RawConfig = { domain: "example.com", topology: "ha" };
        /** A fleet has no private key: any given one is a problem of its own. */
        const expectOneFleetProblem = (raw: RawConfig, ...fragments: string[]) => {
            const problems = problemsOf(raw, false);
            expect(problems, JSON.stringify(raw)).to.have.length(1);
            fragments.forEach((fragment) => expect(problems[0]).to.include(fragment));
        };

        it("takes the API cache's seconds for every app server's nginx, as a single server does", () => {
            expect(parseStackConfig({ ...HA, apiCacheSeconds: "5" }, false).apiCacheSeconds).to.equal(5);
        });

        it("is single by default: one server, as before", () => {
            expect(parseStackConfig(VALID, true).hosting.kind).to.equal("new-server");
            expect(parseStackConfig({ ...VALID, topology: "single" }, true).hosting.kind).to.equal("new-server");
        });

        it("needs only the domain, and no SSH key at all: the fleet configures itself", () => {
            const settings = parseStackConfig(HA, false);
            expect(settings.hosting).to.deep.equal({
                kind: "fleet",
                instanceType: undefined,
                amiId: undefined,
                subnetIds: undefined,
                rootVolumeSizeGiB: undefined,
                hostedZoneId: undefined,
                createApexRecord: false,
                minAppServers: undefined,
                maxAppServers: undefined,
                databaseInstanceClass: undefined,
                databaseBackupRetentionDays: undefined,
                databaseApplyImmediately: false,
                alertEmail: undefined,
                deployerArns: undefined,
            });
            expect(settings.provision).to.equal(false);
        });

        it("reads the fleet's sizes, its subnets, the database's class and the address alerts go to", () => {
            const settings = parseStackConfig(
                {
                    ...HA,
                    subnetIds: '["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"]',
                    minAppServers: "3",
                    maxAppServers: "6",
                    databaseInstanceClass: "db.r7g.large",
                    databaseBackupRetentionDays: "30",
                    createApexRecord: "true",
                    alertEmail: "ops@example.com",
                },
                false,
            );
            expect(settings.hosting).to.deep.include({
                alertEmail: "ops@example.com",
                subnetIds: ["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"],
                minAppServers: 3,
                maxAppServers: 6,
                databaseInstanceClass: "db.r7g.large",
                databaseBackupRetentionDays: 30,
                createApexRecord: true,
            });
            expectOneFleetProblem({ ...HA, databaseBackupRetentionDays: "36" }, "webstack:databaseBackupRetentionDays", "from 1 to 35");
        });

        it("applies the database's changes in its maintenance window unless databaseApplyImmediately says now", () => {
            expect(parseStackConfig({ ...HA, databaseApplyImmediately: "true" }, false).hosting).to.deep.include({
                databaseApplyImmediately: true,
            });
            expectOneFleetProblem({ ...HA, databaseApplyImmediately: "now" }, "webstack:databaseApplyImmediately", "true or false");
            expectOneProblem({ ...VALID, databaseApplyImmediately: "true" }, "webstack:databaseApplyImmediately does not apply");
        });

        it("reads the roles and users that deploy, and refuses a session's ARN or anything that is no IAM principal", () => {
            const deployers = [
                "arn:aws:iam::123456789012:role/webstack-deploy",
                "arn:aws:iam::123456789012:role/ci/webstack-preview",
                "arn:aws:iam::123456789012:user/alice",
            ];
            expect(parseStackConfig({ ...HA, deployerArns: JSON.stringify(deployers) }, false).hosting).to.deep.include({
                deployerArns: deployers,
            });
            expectOneFleetProblem(
                { ...HA, deployerArns: '["arn:aws:sts::123456789012:assumed-role/webstack-deploy/session-1"]' },
                "webstack:deployerArns is",
                "arn:aws:sts::123456789012:assumed-role/webstack-deploy/session-1",
                "not a session's",
            );
            expectOneFleetProblem({ ...HA, deployerArns: "[]" }, 'webstack:deployerArns is "[]"');
            expectOneProblem({ ...VALID, deployerArns: '["arn:aws:iam::123456789012:role/x"]' }, "webstack:deployerArns does not apply");
        });

        it("refuses an unknown topology, naming both", () => {
            expectOneProblem({ ...VALID, topology: "cluster" }, 'webstack:topology is "cluster"', "single or ha");
        });

        it("refuses one server, a maximum below the minimum, one subnet, and a class that is not RDS's", () => {
            expectOneFleetProblem({ ...HA, minAppServers: "1" }, "webstack:minAppServers", "from 2 to 20");
            expectOneFleetProblem(
                { ...HA, minAppServers: "4", maxAppServers: "3" },
                "webstack:maxAppServers is 3, fewer than webstack:minAppServers (4); set it to 4 or more.",
            );
            expectOneFleetProblem(
                { ...HA, subnetIds: '["subnet-0123456789abcdef0"]' },
                "webstack:subnetIds",
                "at least two public subnets in different availability zones",
            );
            expectOneFleetProblem({ ...HA, databaseInstanceClass: "t4g.micro" }, "webstack:databaseInstanceClass", "db.t4g.micro");
        });

        it("refuses each setting a fleet has no use for, with the command that removes it", () => {
            const problems = problemsOf({ ...HA, sshPublicKey: VALID.sshPublicKey, acmeEmail: "ops@example.com", dnsTtl: "60" }, true);
            expect(problems).to.have.length(4);
            for (const key of ["sshPublicKey", "acmeEmail", "dnsTtl", "sshPrivateKey"]) {
                expect(problems.join("\n")).to.include(`webstack:${key} does not apply with webstack:topology ha`);
                expect(problems.join("\n")).to.include(`pulumi config rm webstack:${key}`);
            }
        });

        it("refuses the fleet's settings on a single server", () => {
            expectOneProblem(
                { ...VALID, minAppServers: "3" },
                "webstack:minAppServers does not apply with webstack:topology single",
                "pulumi config rm webstack:minAppServers",
            );
        });
    });
});

describe("rawStackConfig", () => {
    it("keeps this program's keys without their namespace and never the private key's value", () => {
        const { raw, hasPrivateKey } = rawStackConfig({
            "aws:region": "eu-central-1",
            "webstack:domain": "example.com",
            "webstack:sshPrivateKey": "-----BEGIN OPENSSH PRIVATE KEY-----",
        });
        expect(raw).to.deep.equal({ domain: "example.com" });
        expect(hasPrivateKey).to.equal(true);
    });

    it("says when the private key is not set", () => {
        expect(rawStackConfig({ "webstack:domain": "example.com" }).hasPrivateKey).to.equal(false);
    });

    it("tells the pull-request preview's placeholder from a key", () => {
        const { hasPrivateKey, hasPreviewPlaceholder } = rawStackConfig({ "webstack:sshPrivateKey": PREVIEW_KEY_PLACEHOLDER });
        expect({ hasPrivateKey, hasPreviewPlaceholder }).to.deep.equal({ hasPrivateKey: false, hasPreviewPlaceholder: true });
    });
});

describe("refusePreviewPlaceholder", () => {
    const withKey = (key: string) => ({ "webstack:domain": "example.com", "webstack:sshPrivateKey": key });

    it("lets a preview run with the pull request's placeholder instead of the key, and any run with a key", () => {
        expect(() => refusePreviewPlaceholder(withKey(PREVIEW_KEY_PLACEHOLDER), true)).not.to.throw();
        expect(() => refusePreviewPlaceholder(withKey("-----BEGIN OPENSSH PRIVATE KEY-----"), false)).not.to.throw();
    });

    it("refuses the placeholder for a run that changes resources, naming the command that sets the real key", () => {
        expect(() => refusePreviewPlaceholder(withKey(PREVIEW_KEY_PLACEHOLDER), false)).to.throw(
            ConfigError,
            /pull-request preview's placeholder.*pulumi config set --secret webstack:sshPrivateKey/,
        );
    });
});

describe("cidrFamily", () => {
    it("tells IPv4 from IPv6 blocks and rejects malformed ones", () => {
        expect(cidrFamily("10.0.0.0/8")).to.equal("ipv4");
        expect(cidrFamily("2001:db8::/32")).to.equal("ipv6");
        expect(cidrFamily("::/0")).to.equal("ipv6");
        expect(cidrFamily("10.0.0.0/33")).to.equal(undefined);
        expect(cidrFamily("2001:db8::/129")).to.equal(undefined);
        expect(cidrFamily("10.0.0/8")).to.equal(undefined);
        expect(cidrFamily("1:2:3:4:5:6:7:8:9/64")).to.equal(undefined);
        expect(cidrFamily("10.0.0.0/8/1")).to.equal(undefined);
    });
});
