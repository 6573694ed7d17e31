/**
 * How the policies see a resource: the shape CrossGuard hands them, the type tokens they match on,
 * and readers that turn untyped properties into values a rule can test without throwing.
 */
export const TYPES = {
    securityGroup: "aws:ec2/securityGroup:SecurityGroup",
    securityGroupRule: "aws:ec2/securityGroupRule:SecurityGroupRule",
    ingressRule: "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    keyPair: "aws:ec2/keyPair:KeyPair",
    instance: "aws:ec2/instance:Instance",
    eip: "aws:ec2/eip:Eip",
    record: "aws:route53/record:Record",
    role: "aws:iam/role:Role",
    snapshotPolicy: "aws:dlm/lifecyclePolicy:LifecyclePolicy",
    alarm: "aws:cloudwatch/metricAlarm:MetricAlarm",
    topic: "aws:sns/topic:Topic",
    healthCheck: "aws:route53/healthCheck:HealthCheck",
    launchTemplate: "aws:ec2/launchTemplate:LaunchTemplate",
    loadBalancer: "aws:lb/loadBalancer:LoadBalancer",
    targetGroup: "aws:lb/targetGroup:TargetGroup",
    listener: "aws:lb/listener:Listener",
    certificate: "aws:acm/certificate:Certificate",
    database: "aws:rds/instance:Instance",
    databaseSubnetGroup: "aws:rds/subnetGroup:SubnetGroup",
    databaseParameters: "aws:rds/parameterGroup:ParameterGroup",
    instanceProfile: "aws:iam/instanceProfile:InstanceProfile",
    bucket: "aws:s3/bucket:Bucket",
    bucketPublicAccess: "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    bucketVersioning: "aws:s3/bucketVersioning:BucketVersioning",
    bucketEncryption: "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    remoteCommand: "command:remote:Command",
    remoteCopy: "command:remote:CopyToRemote",
} as const;

export type Props = Readonly<Record<string, unknown>>;

/** What CrossGuard passes a policy about one resource. */
export interface ResourceView {
    readonly type: string;
    readonly name: string;
    readonly urn: string;
    readonly props: Props;
    /** Its `protect` option (resource policies only). */
    readonly protect?: boolean;
}

/** What a policy may know about the stack besides its resources. */
export interface PolicyContext {
    /** The stack's webstack:allowSshFromAnywhere is true: SSH from the whole internet was asked for. */
    readonly allowSshFromAnywhere: boolean;
}

export interface StackViolation {
    readonly message: string;
    /** The resource at fault. */
    readonly urn: string;
}

export function strings(value: unknown): string[] {
    return Array.isArray(value) ? value.filter((item): item is string => typeof item === "string") : [];
}

export function records(value: unknown): Props[] {
    return Array.isArray(value) ? value.filter((item): item is Props => typeof item === "object" && item !== null) : [];
}

export function asProps(value: unknown): Props {
    return typeof value === "object" && value !== null ? (value as Props) : {};
}
