import type { DocumentedName, ResourceMapping } from "./modelCheck";

/** ELB: "up to 32 alphanumeric characters and hyphens", not beginning or ending with a hyphen (CreateLoadBalancer, CreateTargetGroup). */
const ELB_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/;
/** RDS: letters, digits and hyphens, a letter first, no two hyphens in a row, none last (DBInstanceIdentifier, DBParameterGroupName). */
const RDS_NAME = /^[A-Za-z](?:-?[A-Za-z0-9])*$/;

const documented = (max: number, form: RegExp, limit: string): DocumentedName => ({ max, form, limit });

/**
 * Each AWS resource type the program declares, and the API operation that creates it: its inputs
 * start from that operation's input shape. A type the program starts to declare must join this
 * list (the API-model test fails until it does); `targets` say where an input goes when its name
 * does not.
 */
export const RESOURCE_OPERATIONS: Readonly<Record<string, ResourceMapping>> = {
    "aws:acm/certificate:Certificate": { service: "acm", operation: "RequestCertificate" },
    "aws:acm/certificateValidation:CertificateValidation": {
        service: "acm",
        operation: "DescribeCertificate",
        targets: { validationRecordFqdns: { unchecked: "the provider waits for these records; ACM is not told them" } },
    },
    "aws:autoscaling/group:Group": {
        service: "autoscaling",
        operation: "CreateAutoScalingGroup",
        targets: {
            instanceRefresh: { shape: "StartInstanceRefreshType" },
            "launchTemplate.id": { member: "LaunchTemplateId" },
            vpcZoneIdentifiers: { member: "VPCZoneIdentifier" },
            waitForCapacityTimeout: { unchecked: "how long the provider waits for the group; not sent to AWS" },
            minElbCapacity: { unchecked: "how many healthy servers the provider waits for on create; not sent to AWS" },
        },
        autonamed: { member: "AutoScalingGroupName" },
        supplied: { "instanceRefresh.AutoScalingGroupName": "the group's own name: StartInstanceRefresh names the group it refreshes" },
    },
    "aws:autoscaling/policy:Policy": { service: "autoscaling", operation: "PutScalingPolicy", autonamed: { member: "PolicyName" } },
    "aws:cloudwatch/metricAlarm:MetricAlarm": {
        service: "cloudwatch",
        operation: "PutMetricAlarm",
        targets: { dimensions: { pairs: { key: "DimensionName", value: "DimensionValue" } } },
        autonamed: { member: "AlarmName" },
    },
    "aws:dlm/lifecyclePolicy:LifecyclePolicy": {
        service: "dlm",
        operation: "CreateLifecyclePolicy",
        targets: { "policyDetails.targetTags": { tags: true } },
    },
    "aws:ec2/eip:Eip": { service: "ec2", operation: "AllocateAddress", targets: { instance: { shape: "InstanceId" } } },
    "aws:ec2transitgateway/instanceState:InstanceState": {
        service: "ec2",
        operation: "StopInstances",
        targets: {
            instanceId: { shape: "InstanceId" },
            state: { unchecked: "which of StartInstances and StopInstances the provider calls: running or stopped" },
        },
        supplied: { InstanceIds: "the provider's list of the one instanceId" },
    },
    "aws:ec2/instance:Instance": {
        service: "ec2",
        operation: "RunInstances",
        targets: {
            ami: { member: "ImageId" },
            vpcSecurityGroupIds: { member: "SecurityGroupIds" },
            // The provider sends the profile's name as IamInstanceProfile.Name, whose shape is String.
            iamInstanceProfile: { shape: "String" },
            rootBlockDevice: { shape: "EbsBlockDevice" },
            "rootBlockDevice.tags": { unchecked: "set on the volume by CreateTags after launch; the same tag shape as the instance's" },
        },
        supplied: { MinCount: "the provider's 1: one resource, one instance", MaxCount: "the provider's 1: one resource, one instance" },
    },
    "aws:ec2/keyPair:KeyPair": {
        service: "ec2",
        operation: "ImportKeyPair",
        targets: { publicKey: { member: "PublicKeyMaterial" } },
        autonamed: {
            member: "KeyName",
            documented: documented(255, /^[\x20-\x7e]+$/, "EC2: a key pair's name, up to 255 ASCII characters"),
        },
    },
    "aws:ec2/launchTemplate:LaunchTemplate": {
        service: "ec2",
        operation: "CreateLaunchTemplate",
        inputShape: "RequestLaunchTemplateData",
        targets: {
            "networkInterfaces.securityGroups": { member: "Groups" },
            vpcSecurityGroupIds: { member: "SecurityGroupIds" },
            updateDefaultVersion: { unchecked: "the provider's ModifyLaunchTemplate after each new version" },
        },
    },
    "aws:ec2/securityGroup:SecurityGroup": {
        service: "ec2",
        operation: "CreateSecurityGroup",
        targets: {
            ingress: { shape: "IpPermission" },
            egress: { shape: "IpPermission" },
            "ingress.protocol": { member: "IpProtocol" },
            "egress.protocol": { member: "IpProtocol" },
            "ingress.cidrBlocks": { shape: "String" },
            "egress.cidrBlocks": { shape: "String" },
            "ingress.ipv6CidrBlocks": { shape: "String" },
            "egress.ipv6CidrBlocks": { shape: "String" },
            "ingress.securityGroups": { shape: "String" },
            "ingress.description": { shape: "String" },
            "egress.description": { shape: "String" },
        },
        autonamed: {
            member: "GroupName",
            documented: documented(
                255,
                /^(?!sg-)[A-Za-z0-9 ._\-:/()#,@[\]+=&;{}!$*]+$/,
                "EC2: a security group's name, up to 255 of a-z, A-Z, 0-9, spaces and ._-:/()#,@[]+=&;{}!$*, not starting sg-",
            ),
        },
    },
    "aws:iam/instanceProfile:InstanceProfile": {
        service: "iam",
        operation: "CreateInstanceProfile",
        targets: { role: { shape: "roleNameType" } },
        autonamed: { member: "InstanceProfileName" },
    },
    "aws:iam/role:Role": {
        service: "iam",
        operation: "CreateRole",
        targets: { assumeRolePolicy: { member: "AssumeRolePolicyDocument" } },
        autonamed: { member: "RoleName" },
    },
    "aws:iam/rolePolicy:RolePolicy": {
        service: "iam",
        operation: "PutRolePolicy",
        targets: { policy: { member: "PolicyDocument" }, role: { unchecked: "the role's id, which is its name, from the role resource" } },
        autonamed: { member: "PolicyName" },
        supplied: { RoleName: "the role input (unchecked above), which is the role's name" },
    },
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": {
        service: "iam",
        operation: "AttachRolePolicy",
        targets: { role: { member: "RoleName" } },
    },
    "aws:lb/listener:Listener": {
        service: "elbv2",
        operation: "CreateListener",
        targets: { certificateArn: { shape: "CertificateArn" }, "defaultActions.redirect": { shape: "RedirectActionConfig" } },
    },
    "aws:lb/listenerRule:ListenerRule": {
        service: "elbv2",
        operation: "CreateRule",
        targets: {
            "conditions.sourceIp": { shape: "SourceIpConditionConfig" },
            "conditions.pathPattern": { shape: "PathPatternConditionConfig" },
            "actions.fixedResponse": { shape: "FixedResponseActionConfig" },
        },
        supplied: { ListenerArn: "the HTTPS listener's ARN, an output the mocks leave unset" },
    },
    "aws:lb/loadBalancer:LoadBalancer": {
        service: "elbv2",
        operation: "CreateLoadBalancer",
        targets: {
            loadBalancerType: { member: "Type" },
            internal: { unchecked: "a boolean the provider turns into Scheme (internal or internet-facing)" },
            dropInvalidHeaderFields: { shape: "LoadBalancerAttributeValue" },
            enableHttp2: { shape: "LoadBalancerAttributeValue" },
            idleTimeout: { shape: "LoadBalancerAttributeValue" },
        },
        autonamed: {
            member: "Name",
            documented: documented(32, ELB_NAME, "ELB: a load balancer's name, up to 32 letters, digits and hyphens"),
        },
    },
    "aws:lb/targetGroup:TargetGroup": {
        service: "elbv2",
        operation: "CreateTargetGroup",
        targets: {
            deregistrationDelay: { shape: "TargetGroupAttributeValue" },
            // The provider spreads the health check over CreateTargetGroup's own HealthCheck* members.
            healthCheck: { shape: "CreateTargetGroupInput" },
            "healthCheck.enabled": { member: "HealthCheckEnabled" },
            "healthCheck.healthyThreshold": { member: "HealthyThresholdCount" },
            "healthCheck.unhealthyThreshold": { member: "UnhealthyThresholdCount" },
            "healthCheck.interval": { member: "HealthCheckIntervalSeconds" },
            "healthCheck.timeout": { member: "HealthCheckTimeoutSeconds" },
            "healthCheck.path": { member: "HealthCheckPath" },
            "healthCheck.port": { member: "HealthCheckPort" },
            "healthCheck.protocol": { member: "HealthCheckProtocol" },
            "healthCheck.matcher": { shape: "HttpCode" },
        },
        autonamed: {
            member: "Name",
            documented: documented(32, ELB_NAME, "ELB: a target group's name, up to 32 letters, digits and hyphens"),
        },
        supplied: { "healthCheck.Name": "the target group's own name: the health check is members of CreateTargetGroup itself" },
    },
    "aws:rds/instance:Instance": {
        service: "rds",
        operation: "CreateDBInstance",
        targets: {
            backupWindow: { member: "PreferredBackupWindow" },
            maintenanceWindow: { member: "PreferredMaintenanceWindow" },
            caCertIdentifier: { member: "CACertificateIdentifier" },
            instanceClass: { member: "DBInstanceClass" },
            username: { member: "MasterUsername" },
            // The parameter group's name, read from the group (pulumi-aws's parameter_group_name).
            parameterGroupName: { member: "DBParameterGroupName" },
            finalSnapshotIdentifier: { shape: "String" },
            skipFinalSnapshot: { unchecked: "DeleteDBInstance's, when the database is deleted" },
            deleteAutomatedBackups: { unchecked: "DeleteDBInstance's, when the database is deleted" },
            applyImmediately: { unchecked: "ModifyDBInstance's ApplyImmediately, on every update; a create applies everything" },
        },
        autonamed: { member: "DBInstanceIdentifier", documented: documented(63, RDS_NAME, "RDS: a DB instance identifier, up to 63") },
    },
    "aws:rds/parameterGroup:ParameterGroup": {
        service: "rds",
        operation: "CreateDBParameterGroup",
        targets: {
            family: { member: "DBParameterGroupFamily" },
            parameters: { shape: "Parameter" },
            "parameters.name": { member: "ParameterName" },
            "parameters.value": { member: "ParameterValue" },
        },
        autonamed: { member: "DBParameterGroupName", documented: documented(255, RDS_NAME, "RDS: a DB parameter group's name, up to 255") },
    },
    "aws:rds/subnetGroup:SubnetGroup": {
        service: "rds",
        operation: "CreateDBSubnetGroup",
        targets: { description: { member: "DBSubnetGroupDescription" } },
        autonamed: {
            member: "DBSubnetGroupName",
            documented: documented(
                255,
                /^(?!default$)[a-z0-9._ -]+$/,
                "RDS: a DB subnet group's name, up to 255 lower-case letters, digits, periods, underscores, spaces and hyphens",
            ),
        },
    },
    "aws:route53/healthCheck:HealthCheck": {
        service: "route53",
        operation: "CreateHealthCheck",
        inputShape: "HealthCheckConfig",
        targets: { fqdn: { member: "FullyQualifiedDomainName" }, tags: { unchecked: "ChangeTagsForResource's, after the check exists" } },
    },
    "aws:route53/record:Record": {
        service: "route53",
        operation: "ChangeResourceRecordSets",
        inputShape: "ResourceRecordSet",
        targets: {
            records: { shape: "RData" },
            aliases: { member: "AliasTarget" },
            "aliases.name": { member: "DNSName" },
            "aliases.zoneId": { member: "HostedZoneId" },
            zoneId: { shape: "ResourceId" },
            allowOverwrite: { unchecked: "whether the provider sends UPSERT or CREATE" },
        },
    },
    "aws:s3/bucket:Bucket": {
        service: "s3",
        operation: "CreateBucket",
        targets: {
            forceDestroy: { unchecked: "whether the provider empties the bucket before deleting it" },
            tags: { unchecked: "PutBucketTagging's, after the bucket exists" },
        },
        autonamed: {
            member: "Bucket",
            documented: documented(
                63,
                /^(?!xn--|sthree-|amzn-s3-demo-)(?!\d+\.\d+\.\d+\.\d+$)(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
                "S3: a bucket's name, 3 to 63 lower-case letters, digits, dots and hyphens, not IP-shaped nor starting xn--",
            ),
        },
    },
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": {
        service: "s3",
        operation: "PutBucketLifecycleConfiguration",
        targets: { rules: { shape: "LifecycleRule" }, "rules.id": { member: "ID" } },
    },
    "aws:s3/bucketObjectv2:BucketObjectv2": {
        service: "s3",
        operation: "PutObject",
        targets: { content: { member: "Body" }, source: { unchecked: "a file the provider uploads as the Body" } },
    },
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": {
        service: "s3",
        operation: "PutBucketOwnershipControls",
        targets: { rule: { shape: "OwnershipControlsRule" } },
        supplied: { OwnershipControls: "the rule input, wrapped in it" },
    },
    "aws:s3/bucketPolicy:BucketPolicy": { service: "s3", operation: "PutBucketPolicy" },
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": {
        service: "s3",
        operation: "PutPublicAccessBlock",
        targets: {
            blockPublicAcls: { shape: "Setting" },
            blockPublicPolicy: { shape: "Setting" },
            ignorePublicAcls: { shape: "Setting" },
            restrictPublicBuckets: { shape: "Setting" },
        },
        supplied: { PublicAccessBlockConfiguration: "the four settings, wrapped in it" },
    },
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": {
        service: "s3",
        operation: "PutBucketEncryption",
        targets: { rules: { shape: "ServerSideEncryptionRule" } },
        supplied: { ServerSideEncryptionConfiguration: "the rules input, wrapped in it" },
    },
    "aws:s3/bucketVersioning:BucketVersioning": { service: "s3", operation: "PutBucketVersioning" },
    "aws:secretsmanager/secret:Secret": {
        service: "secretsmanager",
        operation: "CreateSecret",
        // Secrets Manager adds "-" and six characters to the ARN: a name ending so would be mistaken for a partial ARN.
        autonamed: {
            member: "Name",
            documented: documented(
                512,
                /^[A-Za-z0-9/_+=.@-]+$(?<!-[A-Za-z0-9]{6})/,
                "Secrets Manager: a secret's name, up to 512 of letters, digits and /_+=.@-, not ending in a hyphen and six characters",
            ),
        },
    },
    "aws:secretsmanager/secretVersion:SecretVersion": { service: "secretsmanager", operation: "PutSecretValue" },
    "aws:sns/topic:Topic": {
        service: "sns",
        operation: "CreateTopic",
        autonamed: {
            member: "Name",
            documented: documented(256, /^[A-Za-z0-9_-]+$/, "SNS: a topic's name, up to 256 letters, digits, hyphens and underscores"),
        },
    },
    "aws:sns/topicSubscription:TopicSubscription": { service: "sns", operation: "Subscribe", targets: { topic: { member: "TopicArn" } } },
};
