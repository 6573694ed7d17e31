import { expect } from "chai";
import { installMocks, MOCK_PUBLIC_IP, mockOutputOf } from "../../support/pulumiMocks";
import type { WebServerArgs } from "../../../components/webServer";
import { BUCKET_POLICY_NAME, DNS_POLICY_NAME, RESOURCE_RULES, webstackPolicies } from "../../../policy/policies";
import { sshFromAnywhereAllowed } from "../../../policy/ingressRules";
import { KEPT_SERVER_TAG, TAGGABLE_TYPES } from "../../../policy/resourceRules";
import { KEPT_SERVER_TAG as COMPONENT_KEPT_SERVER_TAG } from "../../../components/server/instance";
import { Props, TYPES } from "../../../policy/resourceView";
import { remoteProvisionerViews, StackViews, unprotected, violationsOf, webFleetViews, webServerViews, withProps } from "./crossGuard";
import { buildPlan } from "../../../provisioning";

const ARGS: WebServerArgs = {
    domain: "example.com",
    sshPublicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHx5c2FuZGJveGtleWZvcnRlc3RzAAAAAAAAAAAAAAAA dev@laptop",
    sshAllowedCidrs: ["203.0.113.7/32", "2001:db8::/64"],
    createApexRecord: true,
    alertEmail: "ops@example.com",
};

const STRICT = webstackPolicies({ allowSshFromAnywhere: false });

let nameCounter = 0;
function declare(overrides: Partial<WebServerArgs> = {}): Promise<StackViews> {
    nameCounter += 1;
    return webServerViews(`policy${nameCounter}`, { ...ARGS, ...overrides });
}

function addIngress(rule: Props): (props: Props) => Props {
    return (props) => ({ ...props, ingress: [...(props.ingress as Props[]), rule] });
}

function tcp(fromPort: number, toPort: number, cidrBlocks: string[], ipv6CidrBlocks: string[] = []): Props {
    return { protocol: "tcp", fromPort, toPort, cidrBlocks, ipv6CidrBlocks };
}

/** The names of the policies that fail on the stack, one entry per violation. */
async function failing(stack: StackViews, policies = STRICT): Promise<string[]> {
    return (await violationsOf(policies, stack)).map((violation) => violation.policy);
}

describe("webstack policy pack", function () {
    this.timeout(20_000);

    let program: StackViews;
    /** The ha topology's resources. */
    let fleet: StackViews;

    before(async () => {
        await installMocks();
        program = await declare();
        fleet = await webFleetViews("policy-fleet", {
            domain: "example.com",
            createApexRecord: true,
            alertEmail: "ops@example.com",
            provisioning: { release: { id: "r1", artifactPath: __filename, healthPath: "/healthz" } },
        });
    });

    describe("on the resources the WebServer component declares", () => {
        it("sees the two security groups, key pair, instance, Elastic IP and both A records", () => {
            const types = program.inputs.map((view) => view.type);
            for (const type of [TYPES.keyPair, TYPES.instance, TYPES.eip]) {
                expect(
                    types.filter((found) => found === type),
                    type,
                ).to.have.lengthOf(1);
            }
            expect(types.filter((found) => found === TYPES.securityGroup)).to.have.lengthOf(2);
            expect(types.filter((found) => found === TYPES.record)).to.have.lengthOf(2);
            expect(program.outputs.find((view) => view.type === TYPES.eip)?.props.publicIp).to.equal(MOCK_PUBLIC_IP);
        });

        it("serves every resource policy and the DNS stack policy, all mandatory", () => {
            expect(STRICT.map((policy) => policy.name)).to.deep.equal([
                ...RESOURCE_RULES.map((rule) => rule.name),
                DNS_POLICY_NAME,
                BUCKET_POLICY_NAME,
            ]);
            expect(STRICT.every((policy) => policy.enforcementLevel === "mandatory")).to.equal(true);
        });

        it("passes every policy", async () => {
            expect(await violationsOf(STRICT, program)).to.deep.equal([]);
        });

        it("passes SSH from anywhere only when the stack opts in", async () => {
            const openSsh = await declare({ sshAllowedCidrs: ["0.0.0.0/0", "::/0"] });
            expect(await failing(openSsh)).to.deep.equal(["no-ssh-from-anywhere"]);
            expect(await failing(openSsh, webstackPolicies({ allowSshFromAnywhere: true }))).to.deep.equal([]);
        });
    });

    describe("no-ssh-from-anywhere", () => {
        it("rejects an inline rule that opens 22 to 0.0.0.0/0, naming the rule and the opt-in", async () => {
            const [violation, ...others] = await violationsOf(
                STRICT,
                withProps(program, TYPES.securityGroup, addIngress(tcp(22, 22, ["0.0.0.0/0"])), "-sg"),
            );
            expect(others).to.deep.equal([]);
            expect(violation.policy).to.equal("no-ssh-from-anywhere");
            expect(violation.message).to.include("tcp 22 from 0.0.0.0/0").and.to.include("webstack:allowSshFromAnywhere");
            expect(violation.urn).to.match(/securityGroup:SecurityGroup::policy\d+-sg$/);
        });

        it("rejects ::/0 and port ranges that include 22", async () => {
            const stack = withProps(
                program,
                TYPES.securityGroup,
                (props) =>
                    addIngress(tcp(20, 25, [], ["::/0"]))(
                        addIngress({ protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] })(props),
                    ),
                "-sg",
            );
            expect(await failing(stack)).to.deep.equal([
                "no-ssh-from-anywhere",
                "no-ssh-from-anywhere",
                "no-private-port-ingress",
                "no-private-port-ingress",
            ]);
        });

        it("rejects separate ingress rule resources too", async () => {
            const rules: StackViews = {
                inputs: [
                    {
                        type: TYPES.securityGroupRule,
                        name: "ssh",
                        urn: "urn:ssh",
                        props: { type: "ingress", ...tcp(22, 22, ["0.0.0.0/0"]) },
                    },
                    {
                        type: TYPES.ingressRule,
                        name: "ssh6",
                        urn: "urn:ssh6",
                        props: { ipProtocol: "tcp", fromPort: 22, toPort: 22, cidrIpv6: "::/0" },
                    },
                ],
                outputs: [],
            };
            expect((await violationsOf(STRICT, rules)).map((violation) => violation.urn)).to.deep.equal(["urn:ssh", "urn:ssh6"]);
        });

        it("accepts SSH from listed blocks, egress rules and web ports from anywhere", async () => {
            const stack: StackViews = {
                inputs: [
                    {
                        type: TYPES.securityGroupRule,
                        name: "egress",
                        urn: "urn:egress",
                        props: { type: "egress", ...tcp(22, 22, ["0.0.0.0/0"]) },
                    },
                    {
                        type: TYPES.ingressRule,
                        name: "https",
                        urn: "urn:https",
                        props: { ipProtocol: "tcp", fromPort: 443, toPort: 443, cidrIpv4: "0.0.0.0/0" },
                    },
                ],
                outputs: [],
            };
            expect(await failing(stack)).to.deep.equal([]);
        });
    });

    describe("no-private-port-ingress", () => {
        it("rejects the database port, even from a private block", async () => {
            const [violation, ...others] = await violationsOf(
                STRICT,
                withProps(program, TYPES.securityGroup, addIngress(tcp(3306, 3306, ["10.0.0.0/8"])), "-sg"),
            );
            expect(others).to.deep.equal([]);
            expect(violation.policy).to.equal("no-private-port-ingress");
            expect(violation.message).to.include("the database port (3306)");
        });

        it("rejects any app port and any range that includes one", async () => {
            for (const [fromPort, toPort] of [
                [3000, 3000],
                [3099, 3099],
                [2999, 3001],
                [1024, 65535],
            ]) {
                const stack = withProps(program, TYPES.securityGroup, addIngress(tcp(fromPort, toPort, ["203.0.113.7/32"])), "-sg");
                expect(await failing(stack), `${fromPort}-${toPort}`).to.include("no-private-port-ingress");
            }
        });

        it("accepts ports next to the private ones and ICMP, whose port fields are types and codes", async () => {
            const stack = withProps(
                program,
                TYPES.securityGroup,
                (props) =>
                    addIngress(tcp(3100, 3305, ["0.0.0.0/0"]))(
                        addIngress({ protocol: "icmp", fromPort: 3306, toPort: 3306, cidrBlocks: ["0.0.0.0/0"] })(props),
                    ),
                "-sg",
            );
            expect(await failing(stack)).to.deep.equal([]);
        });
    });

    describe("imdsv2-required", () => {
        for (const metadataOptions of [{ httpEndpoint: "enabled", httpTokens: "optional" }, undefined]) {
            it(`rejects an instance with metadataOptions ${JSON.stringify(metadataOptions)}`, async () => {
                const stack = withProps(program, TYPES.instance, (props) => ({ ...props, metadataOptions }));
                expect(await failing(stack)).to.deep.equal(["imdsv2-required"]);
            });
        }
    });

    describe("encrypted-root-volume", () => {
        it("rejects an unencrypted root volume", async () => {
            const stack = withProps(program, TYPES.instance, (props) => ({
                ...props,
                rootBlockDevice: { ...(props.rootBlockDevice as Props), encrypted: false },
            }));
            expect(await failing(stack)).to.deep.equal(["encrypted-root-volume"]);
        });

        it("rejects an instance that leaves encryption to the account default", async () => {
            const stack = withProps(program, TYPES.instance, (props) => ({ ...props, rootBlockDevice: undefined }));
            expect(await failing(stack)).to.deep.equal(["encrypted-root-volume"]);
        });
    });

    describe("alarms-notify", () => {
        it("sees the program's three alarms", () => {
            expect(program.inputs.filter((view) => view.type === TYPES.alarm)).to.have.length(3);
        });

        for (const [what, change, fragment] of [
            ["no alarm action", { alarmActions: [] }, "no alarmActions"],
            ["no OK action", { okActions: undefined }, "no okActions"],
            ["its actions turned off", { actionsEnabled: false }, "actionsEnabled is false"],
        ] as const) {
            it(`rejects an alarm with ${what}`, async () => {
                const stack = withProps(program, TYPES.alarm, (props) => ({ ...props, ...change }));
                const violations = await violationsOf(STRICT, stack);
                expect(violations.map((violation) => violation.policy)).to.deep.equal(["alarms-notify"]);
                expect(violations[0].message).to.include(fragment);
            });
        }
    });

    describe("required-tags", () => {
        for (const type of TAGGABLE_TYPES) {
            for (const tag of ["Name", "project", "stack"]) {
                it(`rejects the program's ${type.split(":").pop()} without ${tag}`, async () => {
                    const declaring = program.inputs.some((view) => view.type === type) ? program : fleet;
                    const stack = withProps(declaring, type, (props) => ({
                        ...props,
                        tags: { ...(props.tags as Props), [tag]: undefined },
                    }));
                    const violations = await violationsOf(STRICT, stack);
                    expect(violations.map((violation) => violation.policy)).to.deep.equal(["required-tags"]);
                    expect(violations[0].message).to.include(`tag ${tag}`);
                });
            }
        }

        it("rejects empty tag values and names every missing tag", async () => {
            const [violation] = await violationsOf(
                STRICT,
                withProps(program, TYPES.eip, (props) => ({ ...props, tags: { Name: "" } })),
            );
            expect(violation.message).to.include("tags Name, project, stack");
        });

        it("leaves resources that are not on the list alone", async () => {
            const stack = {
                inputs: [{ type: TYPES.record, name: "www", urn: "urn:www", props: { type: "A", name: "www.example.com" } }],
                outputs: [],
            };
            expect(await failing(stack)).to.deep.equal([]);
        });
    });

    describe(DNS_POLICY_NAME, () => {
        function recordsPointingAt(addresses: string[]): StackViews {
            return {
                inputs: [],
                outputs: program.outputs.map((view) =>
                    view.type === TYPES.record && view.props.name === "example.com"
                        ? { ...view, props: { ...view.props, records: addresses } }
                        : view,
                ),
            };
        }

        it("rejects an A record that points at another address, on that record", async () => {
            const violations = await violationsOf(STRICT, recordsPointingAt(["198.51.100.99"]));
            expect(violations.map((violation) => violation.policy)).to.deep.equal([DNS_POLICY_NAME]);
            expect(violations[0].urn).to.match(/route53\/record:Record::policy\d+-apex-record$/);
            expect(violations[0].message).to.include("198.51.100.99").and.to.include(MOCK_PUBLIC_IP);
        });

        it("rejects a record that points at the Elastic IP and somewhere else, or at nothing", async () => {
            expect(await failing(recordsPointingAt([MOCK_PUBLIC_IP, "198.51.100.99"]))).to.deep.equal([DNS_POLICY_NAME]);
            expect(await failing(recordsPointingAt([]))).to.deep.equal([DNS_POLICY_NAME]);
        });

        it("accepts alias records of the stack's load balancer, and rejects an alias of anything else", async () => {
            expect(await failing({ inputs: [], outputs: fleet.outputs })).to.deep.equal([]);
            const elsewhere = fleet.outputs.map((view) =>
                view.type === TYPES.record && view.props.name === "example.com"
                    ? { ...view, props: { ...view.props, aliases: [{ name: "other.elb.amazonaws.com", zoneId: "Z1" }] } }
                    : view,
            );
            const violations = await violationsOf(STRICT, { inputs: [], outputs: elsewhere });
            expect(violations.map((violation) => violation.policy)).to.deep.equal([DNS_POLICY_NAME]);
            expect(violations[0].message)
                .to.include("alias other.elb.amazonaws.com")
                .and.to.include(mockOutputOf("aws:lb/loadBalancer:LoadBalancer", "policy-fleet-lb", "dnsName"));
        });

        it("rejects every A record of a stack without an Elastic IP", async () => {
            const stack = { inputs: [], outputs: program.outputs.filter((view) => view.type !== TYPES.eip) };
            expect(await failing(stack)).to.deep.equal([DNS_POLICY_NAME, DNS_POLICY_NAME]);
        });

        it("leaves records of other types alone", async () => {
            const stack = {
                inputs: [],
                outputs: [
                    {
                        type: TYPES.record,
                        name: "txt",
                        urn: "urn:txt",
                        props: { type: "TXT", name: "example.com", records: ["v=spf1 -all"] },
                    },
                ],
            };
            expect(await failing(stack)).to.deep.equal([]);
        });
    });
    describe("on the resources the WebFleet component declares (the ha topology)", () => {
        it("passes every policy", async () => {
            expect(await violationsOf(STRICT, fleet)).to.deep.equal([]);
        });

        it("lets the app servers' security group, and nothing else, reach the database port", async () => {
            const fromBlock = withProps(fleet, TYPES.securityGroup, addIngress(tcp(3306, 3306, ["10.0.0.0/8"])), "-db-sg");
            expect(await failing(fromBlock)).to.deep.equal(["no-private-port-ingress"]);
            const appPortsFromGroup = withProps(
                fleet,
                TYPES.securityGroup,
                addIngress({ protocol: "tcp", fromPort: 3001, toPort: 3001, securityGroups: ["sg-1"] }),
                "-app-sg",
            );
            expect(await failing(appPortsFromGroup)).to.deep.equal(["no-private-port-ingress"]);
        });

        it("requires IMDSv2 and encrypted volumes of the launch template too", async () => {
            const optional = withProps(fleet, TYPES.launchTemplate, (props) => ({ ...props, metadataOptions: { httpTokens: "optional" } }));
            expect(await failing(optional)).to.deep.equal(["imdsv2-required"]);
            const plain = withProps(fleet, TYPES.launchTemplate, (props) => ({
                ...props,
                blockDeviceMappings: [{ deviceName: "/dev/xvda", ebs: { encrypted: "false" } }],
            }));
            expect(await failing(plain)).to.deep.equal(["encrypted-root-volume"]);
            const accountDefault = withProps(fleet, TYPES.launchTemplate, (props) => ({ ...props, blockDeviceMappings: undefined }));
            expect(await failing(accountDefault)).to.deep.equal(["encrypted-root-volume"]);
        });
    });

    describe("database-protected", () => {
        for (const [change, fragment] of [
            [{ storageEncrypted: false }, "storageEncrypted to true"],
            [{ multiAz: false }, "multiAz to true"],
            [{ deletionProtection: undefined }, "deletionProtection to true"],
            [{ manageMasterUserPassword: undefined, password: "hunter2" }, "manageMasterUserPassword to true"],
            [{ publiclyAccessible: true }, "must not be publicly accessible"],
            [{ backupRetentionPeriod: 0 }, "backupRetentionPeriod to 1 day or more"],
            [{ skipFinalSnapshot: true }, "snapshotted when it is deleted"],
        ] as const) {
            it(`rejects a database with ${JSON.stringify(change)}`, async () => {
                const violations = await violationsOf(
                    STRICT,
                    withProps(fleet, TYPES.database, (props) => ({ ...props, ...change })),
                );
                expect(violations.map((violation) => violation.policy)).to.deep.equal(["database-protected"]);
                expect(violations[0].message).to.include(fragment);
            });
        }
    });

    describe("stateful-resources-protected", () => {
        it("sees the server protected in Pulumi and from termination, and the fleet's database and plan bucket protected", async () => {
            expect(
                program.inputs
                    .filter((view) => view.type === TYPES.instance)
                    .map((view) => [view.protect, view.props.disableApiTermination]),
            ).to.deep.equal([[true, true]]);
            expect(
                fleet.inputs.filter((view) => [TYPES.database, TYPES.bucket].includes(view.type as never)).map((view) => view.protect),
            ).to.deep.equal([true, true]);
        });

        for (const type of [TYPES.database, TYPES.bucket]) {
            it(`rejects a fleet whose ${type.split(":").pop()} is not protected, naming the option and what lifts it`, async () => {
                const violations = await violationsOf(STRICT, unprotected(fleet, type));
                expect(violations.map((violation) => violation.policy)).to.deep.equal(["stateful-resources-protected"]);
                expect(violations[0].message).to.include("Pulumi's protect option").and.to.include("lift-protection.sh");
            });
        }

        it("lets a server kept for the site to move back to go without protect, never without termination protection", async () => {
            expect(KEPT_SERVER_TAG).to.equal(COMPONENT_KEPT_SERVER_TAG);
            const kept = withProps(unprotected(program, TYPES.instance), TYPES.instance, (props) => ({
                ...props,
                tags: { ...(props.tags as Props), [KEPT_SERVER_TAG]: "true" },
            }));
            expect(await failing(kept)).to.deep.equal([]);
            const terminable = withProps(kept, TYPES.instance, (props) => ({ ...props, disableApiTermination: false }));
            expect(await failing(terminable)).to.deep.equal(["stateful-resources-protected"]);
        });

        it("rejects a server without protect, or that EC2 would terminate on request", async () => {
            expect(await failing(unprotected(program, TYPES.instance))).to.deep.equal(["stateful-resources-protected"]);
            const terminable = await violationsOf(
                STRICT,
                withProps(program, TYPES.instance, (props) => ({ ...props, disableApiTermination: false })),
            );
            expect(terminable.map((violation) => violation.message))
                .to.have.lengthOf(1)
                .and.to.satisfy((messages: string[]) => messages[0].includes("disableApiTermination set to true"));
        });
    });

    describe("load-balancer-https", () => {
        it("rejects an HTTPS listener without a TLS 1.3 policy", async () => {
            const stack = withProps(fleet, TYPES.listener, (props) => ({ ...props, sslPolicy: "ELBSecurityPolicy-2016-08" }), "-https");
            const violations = await violationsOf(STRICT, stack);
            expect(violations.map((violation) => violation.policy)).to.deep.equal(["load-balancer-https"]);
            expect(violations[0].message).to.include('"ELBSecurityPolicy-2016-08"');
        });

        it("rejects an HTTP listener that forwards instead of redirecting to HTTPS", async () => {
            const stack = withProps(
                fleet,
                TYPES.listener,
                (props) => ({ ...props, defaultActions: [{ type: "forward", targetGroupArn: "arn:tg" }] }),
                "-http",
            );
            expect(await failing(stack)).to.deep.equal(["load-balancer-https"]);
        });
    });

    describe(BUCKET_POLICY_NAME, () => {
        const without = (type: string) => ({ inputs: [], outputs: fleet.outputs.filter((view) => view.type !== type) });

        it("rejects a bucket without a public access block, versioning or encryption, naming what it needs", async () => {
            for (const [type, fragment] of [
                [TYPES.bucketPublicAccess, "a public access block"],
                [TYPES.bucketVersioning, "versioning enabled"],
                [TYPES.bucketEncryption, "default server-side encryption"],
            ] as const) {
                const violations = await violationsOf(STRICT, without(type));
                expect(
                    violations.map((violation) => violation.policy),
                    type,
                ).to.deep.equal([BUCKET_POLICY_NAME]);
                expect(violations[0].message).to.include(fragment);
            }
        });

        it("rejects a public access block that leaves one door open", async () => {
            const outputs = fleet.outputs.map((view) =>
                view.type === TYPES.bucketPublicAccess ? { ...view, props: { ...view.props, restrictPublicBuckets: false } } : view,
            );
            expect(await failing({ inputs: [], outputs })).to.deep.equal([BUCKET_POLICY_NAME]);
        });
    });
});

describe("ssh-host-key-pinned", function () {
    this.timeout(20_000);

    const RELEASE = { id: "r1", artifactPath: __filename, healthPath: "/healthz" };
    const existingServer = (hostKey?: string) =>
        remoteProvisionerViews("existing", {
            connection: { host: "198.51.100.20", privateKey: "PRIVATE KEY TEXT", ...(hostKey === undefined ? {} : { hostKey }) },
            plan: buildPlan({ release: RELEASE }),
            domain: "example.com",
        });

    before(installMocks);

    it("accepts the steps of an existing server whose host key is pinned", async () => {
        expect(
            await failing(await existingServer("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHx5c2FuZGJveGtleWZvcnRlc3RzAAAAAAAAAAAAAAAA")),
        ).to.deep.equal([]);
    });

    it("rejects every step, upload or run, that reaches an existing server without one, naming the config key that fixes it", async () => {
        const violations = await violationsOf(STRICT, await existingServer());
        const plan = buildPlan({ release: RELEASE });
        // One more than the plan's steps: the upload of the run steps' scripts.
        expect(violations.map((violation) => violation.policy)).to.deep.equal([...plan, "scripts"].map(() => "ssh-host-key-pinned"));
        expect(violations[0].message).to.contain("198.51.100.20").and.to.contain("webstack:sshHostKey");
    });

    it("accepts the steps of a server the stack creates, which pin the key the stack gave it at its first boot", async () => {
        const created = await webServerViews("policy-created", {
            ...ARGS,
            provisioning: { release: RELEASE, sshPrivateKey: "PRIVATE KEY TEXT" },
        });
        expect(created.inputs.filter((view) => view.type === TYPES.remoteCommand)).to.not.have.lengthOf(0);
        expect(await failing(created)).to.deep.equal([]);
    });

    it("rejects a created server's step that someone wired without the key", async () => {
        const created = await webServerViews("policy-unpinned", {
            ...ARGS,
            provisioning: { release: RELEASE, sshPrivateKey: "PRIVATE KEY TEXT" },
        });
        const unpinned = created.inputs.map((view) =>
            view.type === TYPES.remoteCommand
                ? { ...view, props: { ...view.props, connection: { ...(view.props.connection as object), hostKey: undefined } } }
                : view,
        );
        const violations = await violationsOf(STRICT, { ...created, inputs: unpinned });
        expect(new Set(violations.map((violation) => violation.policy))).to.deep.equal(new Set(["ssh-host-key-pinned"]));
    });
});

describe("sshFromAnywhereAllowed", () => {
    it("is true only when the stack config says true", () => {
        expect(sshFromAnywhereAllowed({ "webstack:allowSshFromAnywhere": "true" })).to.equal(true);
        expect(sshFromAnywhereAllowed({ "webstack:allowSshFromAnywhere": "false" })).to.equal(false);
        expect(sshFromAnywhereAllowed({ "other:allowSshFromAnywhere": "true" })).to.equal(false);
        expect(sshFromAnywhereAllowed({})).to.equal(false);
    });
});
