import { expect } from "chai";
import * as http from "http";
import type { AddressInfo } from "net";
import { awsStandInHandler, signedByRole, STAND_IN_CREDENTIALS } from "../../../sandbox/fleet/awsStandIn";
import { serverCertificateExtensions } from "../../../sandbox/fleet/certificates";
import { noCloudSeedFiles, sandboxCloudConfig } from "../../../sandbox/fleet/cloudInit";
import { databaseSetupScript, renderDatabaseServerConfig } from "../../../sandbox/fleet/database";
import {
    databaseSecretArns,
    fleetAwsHost,
    fleetHostRecords,
    memberHostNumber,
    memberName,
    SANDBOX_APP_SECRET_NAME,
    SANDBOX_BUCKET,
    SANDBOX_DATABASE_HOST,
    SANDBOX_MASTER_SECRET_NAME,
    sandboxDatabaseSecrets,
    sandboxFleetInputs,
} from "../../../sandbox/fleet/fleetLayout";
import {
    adminCommand,
    loadBalancerSetupScript,
    registrationCommand,
    renderHaproxyConfig,
    targetsUp,
} from "../../../sandbox/fleet/loadBalancer";
import {
    metadataRedirectRuleset,
    networkSetupCommands,
    sharedSubnet,
    sharedSubnetMember,
    sharedSubnetSetupCommands,
} from "../../../sandbox/network/network";
import { planPublisher, singlePartEtag } from "../../../sandbox/fleet/planPublisher";
import type { AwsAnswer, ObjectStore } from "../../../sandbox/objectStore/objectStore";
import { checkedCaBundle } from "../../../provisioning/files/fleet";
import { shellcheck } from "../../support/shell";

const CA = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";

describe("sharedSubnet and sharedSubnetMember", () => {
    const subnet = sharedSubnet(40);

    it("puts the host on a bridge at .1 of 198.18.N.0/24 and each member at its own host number", () => {
        expect(subnet).to.deep.equal({
            subnetIndex: 40,
            bridge: "wsf40",
            hostAddress: "198.18.40.1",
            prefixLength: 24,
            cidr: "198.18.40.0/24",
        });
        expect(sharedSubnetMember(subnet, "ha-app1", 11)).to.deep.include({
            guestAddress: "198.18.40.11",
            hostAddress: "198.18.40.1",
            bridge: "wsf40",
            netns: "webstack-ha-app1",
        });
        expect(() => sharedSubnetMember(subnet, "x", 1)).to.throw(/outside 2\.\.254/);
    });

    it("keeps interface names within 15 characters for the highest subnet and host", () => {
        const member = sharedSubnetMember(sharedSubnet(254), "ha-app4", 254);
        expect(member.hostInterface.length).to.be.at.most(15);
        expect(member.transitInterface.length).to.be.at.most(15);
    });

    it("fences the test range, puts the host's address on the bridge and each member's host end into it, with no address of its own", () => {
        expect(sharedSubnetSetupCommands(subnet).map((command) => command.join(" "))).to.deep.equal([
            "ip route replace unreachable 198.18.0.0/15",
            "ip link add wsf40 type bridge",
            "ip addr add 198.18.40.1/24 dev wsf40",
            "ip link set wsf40 up",
        ]);
        const commands = networkSetupCommands(sharedSubnetMember(subnet, "ha-lb", 2)).map((command) => command.join(" "));
        expect(commands).to.include("ip link set wsf40m2 master wsf40");
        expect(commands).to.include("ip -n webstack-ha-lb addr add 198.18.40.2/24 dev eth0");
        expect(commands.some((command) => command.startsWith("ip addr add"))).to.equal(false);
    });
});

describe("the fleet sandbox's fleet layout", () => {
    const subnet = sharedSubnet(40);

    it("names and places the load balancer, the database and the app slots", () => {
        expect([memberName("ha", "lb"), memberName("ha", "db"), memberName("ha", { slot: 3 })]).to.deep.equal([
            "ha-lb",
            "ha-db",
            "ha-app3",
        ]);
        expect([memberHostNumber("lb"), memberHostNumber("db"), memberHostNumber({ slot: 3 })]).to.deep.equal([2, 3, 13]);
    });

    it("answers the database's name with its server, and S3's and Secrets Manager's AWS names with the host's moto", () => {
        expect(fleetHostRecords(subnet)).to.deep.equal([
            { names: [SANDBOX_DATABASE_HOST], address: "198.18.40.3" },
            {
                names: [`${SANDBOX_BUCKET}.s3.eu-central-1.amazonaws.com`, "secretsmanager.eu-central-1.amazonaws.com"],
                address: "198.18.40.1",
            },
        ]);
    });

    it("sends the app servers' metadata requests to the host's metadata service, from the fleet's bridge only", () => {
        const host = fleetAwsHost(subnet);
        expect(host).to.deep.equal({ address: "198.18.40.1", subnetIndex: 40, inboundInterface: "wsf40" });
        expect(metadataRedirectRuleset(host.subnetIndex, host.inboundInterface, host.address)).to.contain(
            'iifname "wsf40" ip daddr 169.254.169.254 tcp dport 80 dnat to 198.18.40.1:8169',
        );
    });

    it("makes the master user's secret as RDS does and the app user's as the stack does, each with its own password", () => {
        expect(sandboxDatabaseSecrets("master-password", "app-password")).to.deep.equal({
            "rds!db-webstack-sandbox": '{"username":"webstack","password":"master-password"}',
            "webstack-sandbox-app-db-credentials": '{"username":"webstack_app","password":"app-password"}',
        });
    });

    const arns = {
        [SANDBOX_MASTER_SECRET_NAME]: "arn:aws:secretsmanager:eu-central-1:123456789012:secret:rds!db-webstack-sandbox-gpFZdI",
        [SANDBOX_APP_SECRET_NAME]: "arn:aws:secretsmanager:eu-central-1:123456789012:secret:webstack-sandbox-app-db-credentials-DJBkXe",
    };

    it("takes the database secrets' ARNs from those Secrets Manager gave, and fails when one is missing", () => {
        expect(databaseSecretArns({ ...arns, other: "arn:other" })).to.deep.equal({
            masterSecretArn: arns[SANDBOX_MASTER_SECRET_NAME],
            appSecretArn: arns[SANDBOX_APP_SECRET_NAME],
        });
        expect(() => databaseSecretArns({ [SANDBOX_MASTER_SECRET_NAME]: "arn:master" })).to.throw(
            "The fleet's Secrets Manager has no secret webstack-sandbox-app-db-credentials.",
        );
    });

    it("gives the fleet step what WebFleet gives it on AWS: the region, the subnet as the load balancer's block, the database, its secrets and its CA", () => {
        const inputs = sandboxFleetInputs(subnet, CA, databaseSecretArns(arns));
        expect(inputs).to.deep.include({ region: "eu-central-1", loadBalancerCidrs: ["198.18.40.0/24"] });
        expect(inputs.database).to.deep.include({
            host: SANDBOX_DATABASE_HOST,
            port: 3306,
            name: "webstack",
            masterSecretArn: arns[SANDBOX_MASTER_SECRET_NAME],
            appSecretArn: arns[SANDBOX_APP_SECRET_NAME],
        });
        expect(checkedCaBundle(inputs.database.trustedCaPem)).to.equal(CA);
    });
});

describe("renderHaproxyConfig", () => {
    const config = renderHaproxyConfig({
        targets: [
            { name: "app1", address: "198.18.40.11" },
            { name: "app2", address: "198.18.40.12" },
        ],
        healthPath: "/healthz",
        healthCheckIntervalSeconds: 2,
    });

    it("terminates HTTPS, redirects HTTP, and tells the targets the client and the scheme, as the ALB does", () => {
        expect(config).to.contain("bind :443 ssl crt /etc/haproxy/site.pem");
        expect(config).to.contain("http-request redirect scheme https code 301");
        expect(config).to.contain("option forwardfor");
        expect(config).to.contain("http-request set-header X-Forwarded-Proto https");
    });

    it("checks every target's health path and takes it out after two failures", () => {
        expect(config).to.contain("http-check send meth GET uri /healthz");
        expect(config).to.contain("default-server check inter 2s fall 2 rise 2");
        expect(config).to.contain("    server app1 198.18.40.11:80 disabled\n    server app2 198.18.40.12:80 disabled\n");
    });

    it("fails open as the ALB does: with no healthy target, every registered one gets requests", () => {
        expect(config).to.contain("option allbackups");
        expect(config).to.contain("    server app1-open 198.18.40.11:80 backup no-check disabled\n");
        expect(registrationCommand("app1", true)).to.equal("set server app/app1 state ready; set server app/app1-open state ready");
        expect(registrationCommand("app1", false)).to.equal("set server app/app1 state maint; set server app/app1-open state maint");
    });

    it("repeats only a GET or a HEAD on another target", () => {
        expect(config).to.contain("http-request disable-l7-retry unless METH_GET || METH_HEAD");
    });

    it("refuses a load balancer without targets", () => {
        expect(() => renderHaproxyConfig({ targets: [], healthPath: "/healthz", healthCheckIntervalSeconds: 2 })).to.throw(
            /at least one target/,
        );
    });
});

describe("targetsUp", () => {
    it("lists the targets that are up and in service (a target disabled in the configuration and then registered counts), from the runtime API's server state", () => {
        const state = [
            "1",
            "# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight",
            "3 app 1 app1 198.18.40.11 2 0 1 1 20 6 3 4 6 0 0 0 - 80 -",
            "3 app 2 app2 198.18.40.12 0 0 1 1 20 8 2 0 6 0 0 0 - 80 -",
            "3 app 3 app3 198.18.40.13 2 5 1 1 20 6 3 4 6 0 0 0 - 80 -",
            "3 app 4 app4 198.18.40.14 2 4 1 1 20 6 3 4 6 0 0 0 - 80 -",
            "3 app 5 app1-open 198.18.40.11 2 0 1 1 20 6 3 4 6 0 0 0 - 80 -",
            "",
        ].join("\n");
        expect(targetsUp(state)).to.deep.equal(["app1", "app4"]);
    });
});

describe("the stand-ins' setup scripts", () => {
    it("pass shellcheck", () => {
        expect(shellcheck(loadBalancerSetupScript("global\n", "PEM"))).to.equal("");
        expect(shellcheck(databaseSetupScript({ certificatePem: "CERT", keyPem: "KEY", password: "p'w" }))).to.equal("");
        expect(shellcheck(adminCommand("show servers state app"))).to.equal("");
    });

    it("make the database reachable over TLS only, from anywhere on the subnet", () => {
        expect(renderDatabaseServerConfig()).to.contain("bind-address = 0.0.0.0\nrequire_secure_transport = ON\n");
    });
});

describe("noCloudSeedFiles", () => {
    it("hands cloud-init the user data unchanged, with meta-data naming the instance", () => {
        const [userData, metaData] = noCloudSeedFiles("#cloud-config\nruncmd: []\n", "i-sandbox-1");
        expect(userData).to.deep.equal({
            path: "var/lib/cloud/seed/nocloud/user-data",
            content: "#cloud-config\nruncmd: []\n",
            mode: 0o600,
        });
        expect(metaData.content).to.equal("instance-id: i-sandbox-1\n");
    });

    it("leaves the sandbox's network, host name, SSH host keys and users alone", () => {
        const config = sandboxCloudConfig();
        for (const line of [
            "datasource_list: [ NoCloud, None ]",
            "network: {config: disabled}",
            "preserve_hostname: true",
            "ssh_deletekeys: false",
            "users: []",
        ]) {
            expect(config).to.contain(line);
        }
    });
});

describe("serverCertificateExtensions", () => {
    it("makes a server-only certificate for every name given", () => {
        expect(serverCertificateExtensions(["www.example.com", "example.com"])).to.contain(
            "subjectAltName = DNS:www.example.com, DNS:example.com\n",
        );
        expect(serverCertificateExtensions(["a"])).to.contain("extendedKeyUsage = serverAuth");
        expect(() => serverCertificateExtensions([])).to.throw(/at least one name/);
    });

    it("names an IPv4 address as an address, for a client that connects by it", () => {
        expect(serverCertificateExtensions(["s3.eu-central-1.amazonaws.com", "198.18.3.1"])).to.contain(
            "subjectAltName = DNS:s3.eu-central-1.amazonaws.com, IP:198.18.3.1\n",
        );
    });
});

describe("the AWS stand-ins", () => {
    it("refuse a request that the role's credentials did not sign", async () => {
        expect(
            signedByRole(
                {
                    authorization: "AWS4-HMAC-SHA256 Credential=AKIDSTANDIN/20261129/eu-central-1/s3/aws4_request",
                    "x-amz-security-token": "session-token",
                },
                STAND_IN_CREDENTIALS,
            ),
        ).to.equal(true);
        const server = http.createServer(awsStandInHandler({ object: () => Buffer.from("object"), secret: () => undefined }));
        await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
        try {
            const { port } = server.address() as AddressInfo;
            const status = await new Promise<number>((resolve) =>
                http.get({ host: "127.0.0.1", port, path: "/plan/abc?versionId=v1" }, (response) => resolve(response.statusCode ?? 0)),
            );
            expect(status).to.equal(403);
        } finally {
            server.close();
        }
    });
});

describe("singlePartEtag", () => {
    it("is the content's MD5 in quotes, as moto's S3 gave a put of the same bytes", () => {
        expect(singlePartEtag(Buffer.from("hello index"))).to.equal('"86c1afe7f25a2dc491dcdcb8941edae6"');
    });
});

describe("planPublisher", () => {
    /** A bucket with the versions listed, answering a put with the next version id; it records each call. */
    function bucketWith(versions: { Key: string; VersionId: string; ETag: string; IsLatest: boolean }[]) {
        const calls: { operation: string; parameters: Record<string, unknown> }[] = [];
        const store = {
            bucket: "plan-bucket",
            admin: { accessKeyId: "AKIAADMIN", secretAccessKey: "secret" },
            async call(_credentials: unknown, operation: string, parameters: Record<string, unknown>): Promise<AwsAnswer> {
                calls.push({ operation, parameters });
                return operation === "list_object_versions"
                    ? { result: { Versions: versions } }
                    : { result: { VersionId: `v${calls.length}` } };
            },
        };
        return { store: store as unknown as ObjectStore, calls };
    }

    it("keeps the latest version of an object whose content is the same, and puts a changed or new one as a new version", async () => {
        const { store, calls } = bucketWith([
            { Key: "plan/base", VersionId: "base-new", ETag: singlePartEtag(Buffer.from("base")), IsLatest: true },
            { Key: "plan/base", VersionId: "base-old", ETag: singlePartEtag(Buffer.from("base before")), IsLatest: false },
            { Key: "plan/app", VersionId: "app-old", ETag: singlePartEtag(Buffer.from("app")), IsLatest: false },
            { Key: "plan/app", VersionId: "app-new", ETag: singlePartEtag(Buffer.from("app now")), IsLatest: true },
        ]);
        const put = await planPublisher(store);
        expect(await put("plan/base", "base")).to.equal("base-new");
        expect(await put("plan/app", "app")).to.equal("v2");
        expect(await put("plan/release", Buffer.from([0x1f, 0x8b, 0xff]))).to.equal("v3");
        expect(calls).to.deep.equal([
            { operation: "list_object_versions", parameters: { Bucket: "plan-bucket" } },
            {
                operation: "put_object",
                parameters: { Bucket: "plan-bucket", Key: "plan/app", BodyBase64: Buffer.from("app").toString("base64") },
            },
            { operation: "put_object", parameters: { Bucket: "plan-bucket", Key: "plan/release", BodyBase64: "H4v/" } },
        ]);
    });

    it("fails, naming the object, when S3 refuses a put", async () => {
        const store = {
            bucket: "plan-bucket",
            admin: { accessKeyId: "AKIAADMIN", secretAccessKey: "secret" },
            call: async (_credentials: unknown, operation: string): Promise<AwsAnswer> =>
                operation === "put_object" ? { error: { code: "AccessDenied", status: 403 } } : { result: {} },
        } as unknown as ObjectStore;
        const put = await planPublisher(store);
        const error = await put("plan/base", "base").catch((caught: Error) => caught);
        expect(error).to.be.instanceOf(Error).with.property("message", "Putting plan/base was refused: AccessDenied (HTTP 403)");
    });
});
