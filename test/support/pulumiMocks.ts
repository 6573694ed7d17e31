import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import { driftSource, type StepDrift } from "../../components/driftCheck";

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
export const MOCK_REGION = "eu-central-1";
export const MOCK_DEPLOYER_ARN = "arn:aws:sts::123456789012:assumed-role/webstack-deploy/session-1";
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

/** The version the mocked versioned bucket gives an object's put: its own for every content. */
export function mockObjectVersion(inputs: Record<string, unknown>): string {
    return createHash("sha256").update(JSON.stringify(inputs)).digest("hex").slice(0, 32);
}

/** Realistic state for the resources whose outputs the program reads. */
function mockState(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
    switch (type) {
        case "aws:ec2/eip:Eip":
            return { ...inputs, publicIp: MOCK_PUBLIC_IP, allocationId: `eipalloc-${name}` };
        case "aws:ec2/keyPair:KeyPair":
            // A new public key replaces a key pair, which AWS's provider names anew.
            return { ...inputs, keyName: `${name}-${createHash("sha256").update(String(inputs.publicKey)).digest("hex").slice(0, 8)}` };
        case "aws:iam/role:Role":
            return { ...inputs, name, arn: `arn:aws:iam::123456789012:role/${name}` };
        case "aws:ec2/instance:Instance":
            return { ...inputs, publicIp: "198.51.100.7", privateIp: "172.31.5.9" };
        case "aws:route53/zone:Zone":
            return { ...inputs, zoneId: `${name}-id`, nameServers: ["ns-1.awsdns-01.example"] };
        case "aws:sns/topic:Topic":
            return { ...inputs, arn: `arn:aws:sns:eu-central-1:123456789012:${name}` };
        case "aws:iam/instanceProfile:InstanceProfile":
            return { ...inputs, name, arn: `arn:aws:iam::123456789012:instance-profile/${name}` };
        case "aws:s3/bucket:Bucket":
            return { ...inputs, bucket: `${name}-bucket`, arn: `arn:aws:s3:::${name}-bucket`, region: "eu-central-1" };
        case "aws:rds/instance:Instance":
            return {
                ...inputs,
                address: `${name}.abcdefghij.eu-central-1.rds.amazonaws.com`,
                port: 3306,
                endpoint: `${name}.abcdefghij.eu-central-1.rds.amazonaws.com:3306`,
                identifier: `${name}-identifier`,
                masterUserSecrets: [
                    { secretArn: `arn:aws:secretsmanager:eu-central-1:123456789012:secret:rds!db-${name}`, secretStatus: "active" },
                ],
            };
        case "aws:ec2/launchTemplate:LaunchTemplate":
            return { ...inputs, latestVersion: 1 };
        case "aws:lb/loadBalancer:LoadBalancer":
            return {
                ...inputs,
                name: `${name}-lb`,
                arn: `arn:aws:elasticloadbalancing:eu-central-1:123456789012:loadbalancer/app/${name}`,
                arnSuffix: `app/${name}/50dc6c495c0c9188`,
                dnsName: `${name}.eu-central-1.elb.amazonaws.com`,
                zoneId: "Z215JYRZR1TBD5",
            };
        case "aws:lb/targetGroup:TargetGroup":
            return {
                ...inputs,
                arn: `arn:aws:elasticloadbalancing:eu-central-1:123456789012:targetgroup/${name}`,
                arnSuffix: `targetgroup/${name}/943f017f100becff`,
            };
        case "aws:acm/certificate:Certificate": {
            const names = [inputs.domainName as string, ...((inputs.subjectAlternativeNames as string[] | undefined) ?? [])];
            return {
                ...inputs,
                arn: `arn:aws:acm:eu-central-1:123456789012:certificate/${name}`,
                domainValidationOptions: names.map((domainName) => ({
                    domainName,
                    resourceRecordName: `_validation.${domainName}.`,
                    resourceRecordType: "CNAME",
                    resourceRecordValue: `_token.${domainName}.acm-validations.aws.`,
                })),
            };
        }
        case "aws:route53/record:Record":
            return { ...inputs, fqdn: inputs.name };
        case "aws:autoscaling/group:Group":
            return { ...inputs, name: `${name}-group` };
        case "aws:secretsmanager/secret:Secret":
            return { ...inputs, arn: `arn:aws:secretsmanager:eu-central-1:123456789012:secret:${name}-AbCdEf` };
        case "tls:index/privateKey:PrivateKey":
            return {
                ...inputs,
                privateKeyOpenssh: "-----BEGIN OPENSSH PRIVATE KEY-----\nbW9jayBob3N0IGtleQ==\n-----END OPENSSH PRIVATE KEY-----\n",
                publicKeyOpenssh: `${MOCK_HOST_PUBLIC_KEY}\n`,
            };
        case "random:index/randomPassword:RandomPassword":
            return { ...inputs, result: "generated-password-of-the-mock" };
        case "aws:s3/bucketObjectv2:BucketObjectv2":
            return { ...inputs, versionId: mockObjectVersion(unwrapSecrets(inputs) as Record<string, unknown>) };
        default:
            return { ...inputs };
    }
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
                // A bucket's id is its name, as AWS's is: the bucket's settings name it by its id.
                const id = args.type === "aws:s3/bucket:Bucket" ? `${args.name}-bucket` : `${args.name}-id`;
                return { id, state: mockState(args.type, args.name, args.inputs) };
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
                    case "aws:ec2/getInstances:getInstances":
                        return {
                            id: MOCK_REGION,
                            ids: mockRunningInstance.instanceType === undefined ? [] : ["i-0running"],
                            privateIps: [],
                            publicIps: [],
                            ipv6Addresses: [],
                        };
                    case "aws:ec2/getInstance:getInstance":
                        return {
                            id: args.inputs.instanceId,
                            instanceId: args.inputs.instanceId,
                            instanceType: mockRunningInstance.instanceType,
                            ami: mockRunningInstance.ami ?? MOCK_AMI_ID,
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
