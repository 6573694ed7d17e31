import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import { generationResourceName } from "../../components/server/generations";
import { driftSource, type StepDrift } from "../../components/driftCheck";
import {
    MOCK_ACCOUNT,
    MOCK_REGION,
    mockArn,
    mockDbiResourceId,
    mockDigits,
    mockEc2Id,
    mockGeneratedName,
    mockHex,
    mockSecretSuffix,
    mockUuid,
    mockZoneId,
} from "./mockIds";

export { MOCK_ACCOUNT, MOCK_REGION };

/** A resource the program declared, as the mocked engine saw it. */
export interface RecordedResource {
    readonly type: string;
    readonly name: string;
    readonly inputs: Record<string, unknown>;
    /** Names of the resources it was declared to depend on (dependsOn and input dependencies). */
    readonly dependsOn: string[];
    /** Top-level inputs that reached the engine as secrets (their values are unwrapped in `inputs`). */
    readonly secretInputs: string[];
    /** The parent's URN as the mock monitor made it (it keeps only the parent's own type); "" for none. */
    readonly parentUrn: string;
    /** The resource's `protect` option: the engine refuses to delete or replace it. */
    readonly protect: boolean;
    /** The resource's `retainOnDelete` option: the engine forgets it, and its provider never deletes it. */
    readonly retainOnDelete: boolean;
    /** Input paths the resource's options tell the engine to keep from the state (`ignoreChanges`). */
    readonly ignoreChanges: string[];
    /** Outputs the resource's options ask the engine to keep secret (`additionalSecretOutputs`). */
    readonly additionalSecretOutputs: string[];
    /** The explicit provider's reference (`<urn>::<id>`) when the resource was given one. */
    readonly provider?: string;
}

/** How the engine protocol marks a secret value. */
const SECRET_SIGNATURE_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIGNATURE = "1b47061264138c4ac30d75fd1eb44270";

function isSecretEnvelope(value: unknown): value is { value: unknown } {
    return typeof value === "object" && value !== null && (value as Record<string, unknown>)[SECRET_SIGNATURE_KEY] === SECRET_SIGNATURE;
}

/** An asset or archive input stays as the program made it: a test reads its path. */
function isAssetOrArchive(value: unknown): boolean {
    return pulumi.asset.Asset.isInstance(value) || pulumi.asset.Archive.isInstance(value);
}

function unwrapSecrets(value: unknown): unknown {
    if (isAssetOrArchive(value)) {
        return value;
    }
    if (isSecretEnvelope(value)) {
        return unwrapSecrets(value.value);
    }
    if (Array.isArray(value)) {
        return value.map(unwrapSecrets);
    }
    if (typeof value === "object" && value !== null) {
        return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, unwrapSecrets(item)]));
    }
    return value;
}

interface RegisterResourceRequest {
    getName(): string;
    getDependenciesList(): string[];
    getAdditionalsecretoutputsList(): string[];
    getParent(): string;
    getIgnorechangesList(): string[];
    getProtect(): boolean;
    getRetainondelete(): boolean | undefined;
}

interface PatchableMonitor {
    registerResource(request: RegisterResourceRequest, callback: unknown): Promise<void>;
}

/** What the mocked data sources answer: a Debian image and the domain's hosted zone. */
/** What the drift check finds on the server under the mocks, by step: nothing unless a test puts something here. */
export const mockDrift = new Map<string, StepDrift>();

export const MOCK_AMI_ID = "ami-0d0e1b1a2c3d4e5f6";
export const MOCK_ZONE_ID = "Z0MOCKZONE0123";
export const MOCK_PUBLIC_IP = "203.0.113.12";
export const MOCK_VPC_ID = "vpc-0a1b2c3d4e5f60718";
export const MOCK_VPC_CIDR = "172.31.0.0/16";
export const MOCK_DEPLOYER_ARN = "arn:aws:sts::123456789012:assumed-role/webstack-deploy/session-1";
/**
 * The generations of a component's servers EC2 has, as the mocks answer a lookup of them by Name
 * (`<component>-instance*`): none unless a test says so.
 */
export const mockExistingGenerations: number[] = [];
const mockInstanceNames = new Map<string, string>();

/** The server a stack runs already, when a test says there is one ({@link mockRunningInstance}). */
export const MOCK_RUNNING_INSTANCE_ID = "i-0a9b8c7d6e5f40312";
/** The default VPC's default subnets, one per zone; any other subnet is in eu-central-1a. */
export const MOCK_DEFAULT_SUBNETS: Readonly<Record<string, string>> = {
    "subnet-0a1a1a1a1a1a1a1a1": "eu-central-1a",
    "subnet-0b2b2b2b2b2b2b2b2": "eu-central-1b",
};

/** The server a stack runs already, as EC2 describes it to the program's lookup; none unless a test says so. */
export const mockRunningInstance: { instanceType?: string; ami?: string; userData?: string } = {};

/** The architecture of each image a test looks up by its id; any other image is x86_64. */
export const mockImageArchitectures: Record<string, string> = {};

/** The host key every mocked tls PrivateKey makes: its OpenSSH public line, with the newline the provider ends it with. */
/** What the mocks' move steps print: the new server's replication key, and the old server's position when its writes paused. */
export const MOCK_REPLICATION_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE1vY2tSZXBsaWNhdGlvbktleQ== webstack-replica";
export const MOCK_PAUSED_POSITION = "0-2840138297-1764";

/** The public address EC2 gives an instance now, as the mocks' getInstance answers it: one of its own for each instance. */
export function mockCurrentPublicIp(instanceId: string): string {
    return `198.51.100.${(parseInt(createHash("sha256").update(instanceId).digest("hex").slice(0, 4), 16) % 200) + 20}`;
}

export const MOCK_HOST_PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE1vY2tIb3N0S2V5T2ZUaGVTdGFja1NlcnZlcg==";

/** The zones that offer the instance type asked about: every zone but eu-central-1c. */
export const MOCK_OFFERING_ZONES: readonly string[] = ["eu-central-1a", "eu-central-1b"];

const recorded: RecordedResource[] = [];
const dependenciesByName = new Map<string, string[]>();
const additionalSecretOutputsByName = new Map<string, string[]>();
const parentUrnByName = new Map<string, string>();
const ignoreChangesByName = new Map<string, string[]>();
const protectedNames = new Set<string>();
const retainedNames = new Set<string>();
const calls: { token: string; inputs: Record<string, unknown> }[] = [];
/** What the mocked engine answered for each resource declared, in order. */
const answered: (MockedResource & { readonly type: string; readonly name: string })[] = [];
/** The region of each explicit AWS provider the program declared, by its name. */
const providerRegions = new Map<string, string>();

/** The region a resource lives in: its explicit provider's (given as `<urn>::<id>`), or the stack's. */
function regionOf(provider: string | undefined): string {
    const urn = provider?.slice(0, provider.lastIndexOf("::")) ?? "";
    return providerRegions.get(urn.slice(urn.lastIndexOf("::") + 2)) ?? MOCK_REGION;
}

/** The version the mocked versioned bucket gives an object's put: its own for every content. */
export function mockObjectVersion(inputs: Record<string, unknown>): string {
    return createHash("sha256").update(JSON.stringify(inputs)).digest("hex").slice(0, 32);
}

/** What the mocked engine answers for a resource: its id, and its state (its inputs and the outputs the provider adds). */
export interface MockedResource {
    readonly id: string;
    readonly state: Record<string, unknown>;
}

const HEALTHY_ELB_ZONE_ID = "Z215JYRZR1TBD5";

/**
 * The id and the state AWS's provider would give the resource `name` of `type`, in AWS's shapes: EC2
 * ids of 17 hexadecimal characters, ARNs with their random parts, the names Pulumi generates. Every
 * random part is drawn from the resource's type and name, so that each run gives the same.
 */
export function mockResource(type: string, name: string, inputs: Record<string, unknown> = {}, region = MOCK_REGION): MockedResource {
    const seed = `${type}:${name}`;
    /** An ARN of the account in the resource's region. */
    const arnOf = (service: string, resource: string) => mockArn(service, resource, region);
    const given = (key: string) => (typeof inputs[key] === "string" ? (inputs[key] as string) : undefined);
    const generated = (key = "name") => given(key) ?? mockGeneratedName(type, name);
    switch (type) {
        case "aws:ec2/eip:Eip": {
            const allocationId = mockEc2Id("eipalloc", seed);
            return { id: allocationId, state: { ...inputs, publicIp: MOCK_PUBLIC_IP, allocationId } };
        }
        case "aws:ec2/keyPair:KeyPair": {
            // A new public key replaces a key pair, which AWS's provider names anew.
            const keyName =
                given("keyName") ?? `${name}-${createHash("sha256").update(String(inputs.publicKey)).digest("hex").slice(0, 8)}`;
            const keyPairId = mockEc2Id("key", seed);
            return { id: keyName, state: { ...inputs, keyName, keyPairId, arn: arnOf("ec2", `key-pair/${keyName}`) } };
        }
        case "aws:ec2/securityGroup:SecurityGroup": {
            const id = mockEc2Id("sg", seed);
            return { id, state: { ...inputs, name: generated(), arn: arnOf("ec2", `security-group/${id}`), ownerId: MOCK_ACCOUNT } };
        }
        case "aws:ec2/instance:Instance": {
            const id = mockEc2Id("i", seed);
            const rootBlockDevice = {
                ...((inputs.rootBlockDevice as Record<string, unknown> | undefined) ?? {}),
                volumeId: mockEc2Id("vol", seed),
            };
            return {
                id,
                state: {
                    ...inputs,
                    arn: arnOf("ec2", `instance/${id}`),
                    primaryNetworkInterfaceId: mockEc2Id("eni", seed),
                    rootBlockDevice,
                    publicIp: "198.51.100.7",
                    privateIp: "172.31.5.9",
                },
            };
        }
        case "aws:ec2/launchTemplate:LaunchTemplate": {
            const id = mockEc2Id("lt", seed);
            return { id, state: { ...inputs, name: generated(), arn: arnOf("ec2", `launch-template/${id}`), latestVersion: 1 } };
        }
        case "aws:dlm/lifecyclePolicy:LifecyclePolicy": {
            const id = mockEc2Id("policy", seed);
            return { id, state: { ...inputs, arn: arnOf("dlm", `policy/${id}`) } };
        }
        case "aws:iam/role:Role": {
            const roleName = generated();
            return {
                id: roleName,
                state: {
                    ...inputs,
                    name: roleName,
                    arn: mockArn("iam", `role/${roleName}`, ""),
                    uniqueId: `AROA${mockHex(seed, 17).toUpperCase()}`,
                },
            };
        }
        case "aws:iam/instanceProfile:InstanceProfile": {
            const profileName = generated();
            return { id: profileName, state: { ...inputs, name: profileName, arn: mockArn("iam", `instance-profile/${profileName}`, "") } };
        }
        case "aws:iam/rolePolicy:RolePolicy": {
            const policyName = generated();
            return { id: `${String(inputs.role)}:${policyName}`, state: { ...inputs, name: policyName } };
        }
        case "aws:route53/zone:Zone": {
            const zoneId = mockZoneId(seed);
            return { id: zoneId, state: { ...inputs, zoneId, nameServers: ["ns-1.awsdns-01.example"] } };
        }
        case "aws:route53/record:Record":
            return {
                id: `${String(inputs.zoneId)}_${String(inputs.name)}_${String(inputs.type)}`,
                state: { ...inputs, fqdn: inputs.name },
            };
        case "aws:route53/healthCheck:HealthCheck": {
            const id = mockUuid(seed);
            return { id, state: { ...inputs, arn: `arn:aws:route53:::healthcheck/${id}` } };
        }
        case "aws:sns/topic:Topic": {
            const arn = arnOf("sns", generated());
            return { id: arn, state: { ...inputs, name: generated(), arn } };
        }
        case "aws:sns/topicSubscription:TopicSubscription": {
            const arn = `${String(inputs.topic)}:${mockUuid(seed)}`;
            return { id: arn, state: { ...inputs, arn } };
        }
        case "aws:s3/bucket:Bucket": {
            // A bucket's id is its name, as AWS's is: the bucket's settings name it by its id.
            const bucket = generated("bucket");
            return { id: bucket, state: { ...inputs, bucket, arn: mockArn("s3", bucket, ""), region } };
        }
        case "aws:rds/instance:Instance": {
            const identifier = generated("identifier").toLowerCase();
            const address = `${identifier}.${mockHex(`rds:${MOCK_ACCOUNT}`, 12)}.${region}.rds.amazonaws.com`;
            const resourceId = mockDbiResourceId(seed);
            const secretName = `rds!db-${mockUuid(seed)}`;
            return {
                id: resourceId,
                state: {
                    ...inputs,
                    identifier,
                    resourceId,
                    arn: arnOf("rds", `db:${identifier}`),
                    address,
                    port: 3306,
                    endpoint: `${address}:3306`,
                    masterUserSecrets: [
                        {
                            secretArn: arnOf("secretsmanager", `secret:${secretName}-${mockSecretSuffix(secretName)}`),
                            secretStatus: "active",
                        },
                    ],
                },
            };
        }
        case "aws:lb/loadBalancer:LoadBalancer": {
            const lbName = generated();
            const arnSuffix = `app/${lbName}/${mockHex(seed, 16)}`;
            return {
                id: arnOf("elasticloadbalancing", `loadbalancer/${arnSuffix}`),
                state: {
                    ...inputs,
                    name: lbName,
                    arn: arnOf("elasticloadbalancing", `loadbalancer/${arnSuffix}`),
                    arnSuffix,
                    dnsName: `${lbName}-${mockDigits(seed, 10)}.${region}.elb.amazonaws.com`,
                    zoneId: HEALTHY_ELB_ZONE_ID,
                },
            };
        }
        case "aws:lb/targetGroup:TargetGroup": {
            const arnSuffix = `targetgroup/${generated()}/${mockHex(seed, 16)}`;
            const arn = arnOf("elasticloadbalancing", arnSuffix);
            return { id: arn, state: { ...inputs, name: generated(), arn, arnSuffix } };
        }
        case "aws:lb/listener:Listener": {
            const loadBalancer = String(inputs.loadBalancerArn).split(":loadbalancer/")[1];
            const arn = arnOf("elasticloadbalancing", `listener/${loadBalancer}/${mockHex(seed, 16)}`);
            return { id: arn, state: { ...inputs, arn } };
        }
        case "aws:lb/listenerRule:ListenerRule": {
            const listener = String(inputs.listenerArn).split(":listener/")[1];
            const arn = arnOf("elasticloadbalancing", `listener-rule/${listener}/${mockHex(seed, 16)}`);
            return { id: arn, state: { ...inputs, arn } };
        }
        case "aws:acm/certificate:Certificate": {
            const names = [inputs.domainName as string, ...((inputs.subjectAlternativeNames as string[] | undefined) ?? [])];
            const arn = arnOf("acm", `certificate/${mockUuid(seed)}`);
            return {
                id: arn,
                state: {
                    ...inputs,
                    arn,
                    domainValidationOptions: names.map((domainName) => ({
                        domainName,
                        resourceRecordName: `_validation.${domainName}.`,
                        resourceRecordType: "CNAME",
                        resourceRecordValue: `_token.${domainName}.acm-validations.aws.`,
                    })),
                },
            };
        }
        case "aws:acm/certificateValidation:CertificateValidation":
            return { id: String(inputs.certificateArn), state: { ...inputs } };
        case "aws:autoscaling/group:Group": {
            const groupName = generated();
            return {
                id: groupName,
                state: {
                    ...inputs,
                    name: groupName,
                    arn: arnOf("autoscaling", `autoScalingGroup:${mockUuid(seed)}:autoScalingGroupName/${groupName}`),
                },
            };
        }
        case "aws:autoscaling/policy:Policy": {
            const policyName = generated();
            const group = String(inputs.autoscalingGroupName);
            return {
                id: policyName,
                state: {
                    ...inputs,
                    name: policyName,
                    arn: arnOf("autoscaling", `scalingPolicy:${mockUuid(seed)}:autoScalingGroupName/${group}:policyName/${policyName}`),
                },
            };
        }
        case "aws:cloudwatch/metricAlarm:MetricAlarm": {
            const alarmName = generated();
            return { id: alarmName, state: { ...inputs, name: alarmName, arn: arnOf("cloudwatch", `alarm:${alarmName}`) } };
        }
        case "aws:secretsmanager/secret:Secret": {
            const secretName = generated();
            const arn = arnOf("secretsmanager", `secret:${secretName}-${mockSecretSuffix(secretName)}`);
            return { id: arn, state: { ...inputs, name: secretName, arn } };
        }
        case "aws:secretsmanager/secretVersion:SecretVersion": {
            const versionId = mockUuid(seed);
            return { id: `${String(inputs.secretId)}|${versionId}`, state: { ...inputs, arn: inputs.secretId, versionId } };
        }
        case "aws:rds/subnetGroup:SubnetGroup":
        case "aws:rds/parameterGroup:ParameterGroup": {
            // RDS keeps these names in lower case; pulumi-aws generates them so.
            const groupName = generated().toLowerCase();
            const kind = type === "aws:rds/subnetGroup:SubnetGroup" ? "subgrp" : "pg";
            return { id: groupName, state: { ...inputs, name: groupName, arn: arnOf("rds", `${kind}:${groupName}`) } };
        }
        case "aws:iam/rolePolicyAttachment:RolePolicyAttachment":
            // The provider's id: the role's name and a unique id of the attachment's time.
            return { id: `${String(inputs.role)}-2026${mockDigits(seed, 22)}`, state: { ...inputs } };
        case "aws:ec2transitgateway/instanceState:InstanceState":
            // The provider names the resource after its instance.
            return { id: String(inputs.instanceId), state: { ...inputs } };
        case "command:remote:Command":
            return {
                id: `${name}-id`,
                state: {
                    ...inputs,
                    stdout: name.endsWith("-key")
                        ? MOCK_REPLICATION_KEY
                        : name.endsWith("-pause-writes")
                          ? `${MOCK_PAUSED_POSITION}\n`
                          : "",
                },
            };
        case "tls:index/privateKey:PrivateKey":
            return {
                id: `${name}-id`,
                state: {
                    ...inputs,
                    privateKeyOpenssh: "-----BEGIN OPENSSH PRIVATE KEY-----\nbW9jayBob3N0IGtleQ==\n-----END OPENSSH PRIVATE KEY-----\n",
                    publicKeyOpenssh: `${MOCK_HOST_PUBLIC_KEY}\n`,
                },
            };
        case "random:index/randomPassword:RandomPassword":
            return { id: `${name}-id`, state: { ...inputs, result: "generated-password-of-the-mock" } };
        case "aws:s3/bucketObjectv2:BucketObjectv2":
            return {
                id: String(inputs.key),
                state: { ...inputs, versionId: mockObjectVersion(unwrapSecrets(inputs) as Record<string, unknown>) },
            };
        default:
            // An S3 bucket's settings are named by their bucket; any other resource by its own name.
            return {
                id: type.startsWith("aws:s3/") && typeof inputs.bucket === "string" ? inputs.bucket : `${name}-id`,
                state: { ...inputs },
            };
    }
}

/** The id the mocks give the resource `name` of `type`. */
export function mockIdOf(type: string, name: string, inputs: Record<string, unknown> = {}): string {
    return mockResource(type, name, inputs).id;
}

/**
 * One output of the resource `name` of `type` as the mocks make it (`arn`, `name`, `bucket`, or a
 * path of keys and list indexes: `masterUserSecrets.0.secretArn`), in `region` when its provider's is another.
 */
export function mockOutputOf(type: string, name: string, output: string, region = MOCK_REGION): string {
    const state = mockResource(type, name, {}, region).state;
    return String(output.split(".").reduce<unknown>((value, key) => (value as Record<string, unknown> | undefined)?.[key], state));
}

/**
 * Installs Pulumi mocks that record every declared resource and answer the two data sources the
 * program uses. Any other call throws, so an unexpected lookup fails the test that caused it.
 */
export async function installMocks(): Promise<void> {
    driftSource.read = async () => Object.fromEntries(mockDrift);
    await pulumi.runtime.setMocks(
        {
            newResource(args: pulumi.runtime.MockResourceArgs) {
                recorded.push({
                    type: args.type,
                    name: args.name,
                    inputs: unwrapSecrets(args.inputs) as Record<string, unknown>,
                    dependsOn: dependenciesByName.get(args.name) ?? [],
                    additionalSecretOutputs: additionalSecretOutputsByName.get(args.name) ?? [],
                    parentUrn: parentUrnByName.get(args.name) ?? "",
                    ignoreChanges: ignoreChangesByName.get(args.name) ?? [],
                    protect: protectedNames.has(args.name),
                    retainOnDelete: retainedNames.has(args.name),
                    secretInputs: Object.keys(args.inputs).filter((key) => isSecretEnvelope(args.inputs[key])),
                    provider: args.provider,
                });
                if (args.type === "pulumi:providers:aws" && typeof args.inputs.region === "string") {
                    providerRegions.set(args.name, args.inputs.region);
                }
                const answer = mockResource(args.type, args.name, args.inputs, regionOf(args.provider));
                answered.push({ type: args.type, name: args.name, ...answer });
                return answer;
            },
            call(args: pulumi.runtime.MockCallArgs) {
                calls.push({ token: args.token, inputs: args.inputs });
                switch (args.token) {
                    case "aws:ec2/getAmi:getAmi": {
                        const filters = (args.inputs.filters ?? []) as { name: string; values: string[] }[];
                        const filtered = (name: string) => filters.find((filter) => filter.name === name)?.values[0];
                        const id = filtered("image-id") ?? MOCK_AMI_ID;
                        const architecture = filtered("architecture") ?? mockImageArchitectures[id] ?? "x86_64";
                        return { id, imageId: id, name: "debian-13-amd64-20261101-2000", architecture };
                    }
                    case "aws:ec2/getSubnet:getSubnet":
                        return {
                            id: args.inputs.id,
                            vpcId: MOCK_VPC_ID,
                            availabilityZone: MOCK_DEFAULT_SUBNETS[args.inputs.id as string] ?? "eu-central-1a",
                        };
                    case "aws:ec2/getSubnets:getSubnets":
                        return { id: MOCK_REGION, ids: Object.keys(MOCK_DEFAULT_SUBNETS).reverse() };
                    case "aws:ec2/getInstanceTypeOfferings:getInstanceTypeOfferings":
                        return {
                            id: MOCK_REGION,
                            locations: [...MOCK_OFFERING_ZONES],
                            locationTypes: MOCK_OFFERING_ZONES.map(() => "availability-zone"),
                            instanceTypes: MOCK_OFFERING_ZONES.map(() => "t3.micro"),
                        };
                    case "aws:ec2/getInstances:getInstances": {
                        const name = String((args.inputs.instanceTags as Record<string, string> | undefined)?.Name ?? "");
                        // The stack's servers of every generation, asked for by Name prefix; else the one running server.
                        const ids = name.endsWith("*")
                            ? mockExistingGenerations.map((generation) => {
                                  const instanceName = generationResourceName(name.slice(0, -1), generation);
                                  mockInstanceNames.set(mockEc2Id("i", instanceName), instanceName);
                                  return mockEc2Id("i", instanceName);
                              })
                            : mockRunningInstance.instanceType === undefined
                              ? []
                              : [MOCK_RUNNING_INSTANCE_ID];
                        return {
                            id: MOCK_REGION,
                            ids,
                            privateIps: [],
                            publicIps: [],
                            ipv6Addresses: [],
                        };
                    }
                    case "aws:ec2/getInstance:getInstance":
                        return {
                            id: args.inputs.instanceId,
                            instanceId: args.inputs.instanceId,
                            instanceType: mockRunningInstance.instanceType,
                            ami: mockRunningInstance.ami ?? MOCK_AMI_ID,
                            publicIp: mockCurrentPublicIp(String(args.inputs.instanceId)),
                            tags: { Name: mockInstanceNames.get(String(args.inputs.instanceId)) ?? "" },
                            // Launched by the stack, with its host key, unless a test says otherwise.
                            userDataBase64: Buffer.from(
                                mockRunningInstance.userData ?? `#cloud-config\n  ed25519_public: ${MOCK_HOST_PUBLIC_KEY}\n`,
                            ).toString("base64"),
                        };
                    case "aws:ec2/getVpc:getVpc":
                        return { id: MOCK_VPC_ID, cidrBlock: MOCK_VPC_CIDR, default: true };
                    case "aws:index/getRegion:getRegion":
                        return { id: MOCK_REGION, region: MOCK_REGION, name: MOCK_REGION };
                    case "aws:index/getCallerIdentity:getCallerIdentity":
                        return { id: "123456789012", accountId: "123456789012", arn: MOCK_DEPLOYER_ARN, userId: "AROAEXAMPLE:session-1" };
                    case "aws:route53/getZone:getZone":
                        return { id: MOCK_ZONE_ID, zoneId: MOCK_ZONE_ID, name: args.inputs.name };
                    default:
                        throw new Error(`Unmocked call ${args.token}; mock it in test/support/pulumiMocks.ts.`);
                }
            },
        },
        "webstack",
        "dev",
        false,
    );
    // The mocks API hides dependencies and options; the mock monitor's request carries them.
    const monitor = pulumi.runtime.getMonitor() as unknown as PatchableMonitor;
    const registerResource = monitor.registerResource.bind(monitor);
    monitor.registerResource = (request, callback) => {
        const urns = request.getDependenciesList();
        dependenciesByName.set(
            request.getName(),
            urns.map((urn) => urn.slice(urn.lastIndexOf("::") + 2)),
        );
        additionalSecretOutputsByName.set(request.getName(), request.getAdditionalsecretoutputsList());
        parentUrnByName.set(request.getName(), request.getParent());
        ignoreChangesByName.set(request.getName(), request.getIgnorechangesList());
        if (request.getProtect()) {
            protectedNames.add(request.getName());
        }
        if (request.getRetainondelete()) {
            retainedNames.add(request.getName());
        }
        return registerResource(request, callback);
    };
}

/** Forgets what earlier tests declared. */
export function resetRecords(): void {
    recorded.length = 0;
    answered.length = 0;
    calls.length = 0;
    dependenciesByName.clear();
    additionalSecretOutputsByName.clear();
    parentUrnByName.clear();
    ignoreChangesByName.clear();
    protectedNames.clear();
    retainedNames.clear();
    mockDrift.clear();
}

/** Waits until the mocked engine has seen every resource declared so far. */
export async function settle(): Promise<void> {
    let count = -1;
    while (count !== recorded.length) {
        count = recorded.length;
        await new Promise((resolve) => setTimeout(resolve, 20));
    }
}

export function resources(): readonly RecordedResource[] {
    return recorded;
}

/** The id and state the mocks gave each resource declared since the last reset. */
export function mockedAnswers(): readonly (MockedResource & { readonly type: string; readonly name: string })[] {
    return answered;
}

export function resourcesOfType(type: string): RecordedResource[] {
    return recorded.filter((resource) => resource.type === type);
}

export const ALARM_TYPE = "aws:cloudwatch/metricAlarm:MetricAlarm";

/** The names of the alerting resources declared (SNS topics, Route53 health checks, CloudWatch alarms). */
export function alertResourceNames(): string[] {
    const types = ["aws:sns/topic:Topic", "aws:route53/healthCheck:HealthCheck", ALARM_TYPE];
    return recorded.filter((resource) => types.includes(resource.type)).map((resource) => resource.name);
}

export function onlyResourceOfType(type: string): RecordedResource {
    const found = resourcesOfType(type);
    if (found.length !== 1) {
        throw new Error(`Expected exactly one ${type}, found ${found.length}.`);
    }
    return found[0];
}

/** The resource of `type` named `name`; throws when there is none. */
export function resourceNamed(type: string, name: string): RecordedResource {
    const found = recorded.find((resource) => resource.type === type && resource.name === name);
    if (found === undefined) {
        throw new Error(
            `No ${type} named ${name}; declared: ${
                resourcesOfType(type)
                    .map((resource) => resource.name)
                    .join(", ") || "none"
            }.`,
        );
    }
    return found;
}

export function callsOf(token: string): Record<string, unknown>[] {
    return calls.filter((call) => call.token === token).map((call) => call.inputs);
}

/** Resolves an Output's value (mocks never run in preview, so every apply runs). */
export function valueOf<T>(output: pulumi.Output<T>): Promise<T> {
    return new Promise((resolve) => output.apply(resolve));
}

/**
 * Declares one component at a time under the mocks (install them first), each with a name of its own
 * (`<prefix><n>`) and only its resources recorded: the returned function builds one with the
 * overrides, waits for `ready` and for the mocked engine to see every resource it declared.
 */
export function componentUnderMocks<Component, Args>(
    prefix: string,
    create: (name: string, overrides: Partial<Args>) => Component,
    ready: (component: Component) => pulumi.Output<unknown>,
): (overrides?: Partial<Args>) => Promise<{ component: Component; name: string }> {
    let count = 0;
    return async (overrides = {}) => {
        resetRecords();
        count += 1;
        const name = `${prefix}${count}`;
        const component = create(name, overrides);
        await valueOf(ready(component));
        await settle();
        return { component, name };
    };
}
