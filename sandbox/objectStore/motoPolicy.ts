/**
 * moto authorizes a request by its API operation's name (`s3:HeadObject`, `s3:ListObjectsV2`), not by
 * the IAM action AWS checks (`s3:GetObject`, `s3:ListBucket`). So that the sandbox's AWS enforces what a
 * stack's policy means on AWS, the policy it is given names, beside each IAM action, the operations
 * AWS authorizes with that action. The stack's own policy stays as AWS reads it.
 */

/** For each IAM action, the operations moto checks instead (measured against moto 5.2.6). */
export const MOTO_OPERATIONS_OF_ACTION: Readonly<Record<string, readonly string[]>> = {
    "s3:PutObject": ["s3:CreateMultipartUpload", "s3:UploadPart", "s3:CompleteMultipartUpload"],
    "s3:GetObject": ["s3:HeadObject"],
    // AWS checks GetObjectVersion, not GetObject, for a GET or HEAD that names a versionId; moto checks the operation.
    "s3:GetObjectVersion": ["s3:GetObject", "s3:HeadObject"],
    "s3:ListMultipartUploadParts": ["s3:ListParts"],
    "s3:ListBucket": ["s3:ListObjects", "s3:ListObjectsV2", "s3:HeadBucket"],
    "s3:ListBucketVersions": ["s3:ListObjectVersions"],
    "s3:DeleteObject": ["s3:DeleteObjects"],
    "s3:DeleteObjectVersion": ["s3:DeleteObjects"],
    "s3:PutLifecycleConfiguration": ["s3:PutBucketLifecycleConfiguration", "s3:PutBucketLifecycle", "s3:DeleteBucketLifecycle"],
    "s3:PutEncryptionConfiguration": ["s3:PutBucketEncryption", "s3:DeleteBucketEncryption"],
    "s3:PutBucketPublicAccessBlock": ["s3:PutPublicAccessBlock", "s3:DeletePublicAccessBlock"],
    "s3:PutBucketObjectLockConfiguration": ["s3:PutObjectLockConfiguration"],
    "s3:PutBucketOwnershipControls": ["s3:DeleteBucketOwnershipControls"],
    "cloudwatch:PutMetricData": ["monitoring:PutMetricData"],
};

/**
 * The services whose requests moto authorizes against the resource they act on (measured against moto
 * 5.2.6). It authorizes any other service's against the resource "*", which a statement naming its
 * resources (a secret's ARN) never matches.
 */
const SERVICES_MOTO_NAMES_RESOURCES_OF: ReadonlySet<string> = new Set(["s3", "iam", "sts", "sqs"]);

interface Statement {
    readonly Action?: string | readonly string[];
    readonly Resource?: string | readonly string[];
    readonly [key: string]: unknown;
}

function listed(value: string | readonly string[] | undefined): readonly string[] {
    return value === undefined ? [] : typeof value === "string" ? [value] : value;
}

/**
 * The statement's resources as moto can match them: as they are, or "*" for a statement whose actions
 * moto authorizes against no resource. There moto cannot tell one resource from another (one secret
 * from the next), so the statement holds in moto for every resource of its actions.
 */
function motoResource(statement: Statement, actions: readonly string[]): Statement["Resource"] {
    const namesResources = actions.map((action) => SERVICES_MOTO_NAMES_RESOURCES_OF.has(action.split(":")[0]));
    if (statement.Resource === undefined || statement.Resource === "*" || namesResources.every(Boolean)) {
        return statement.Resource;
    }
    if (namesResources.some(Boolean)) {
        throw new Error(
            `moto checks the resources of some of statement ${JSON.stringify(statement.Sid ?? "")}'s actions and not of others; split it.`,
        );
    }
    return "*";
}

/**
 * The policy (JSON) with every statement's actions followed by the operations moto checks for them,
 * and its resources as moto can match them ({@link motoResource}). Refuses a statement with a
 * Condition: moto evaluates none, and turns an Allow with one into a deny.
 */
export function motoPolicy(policyJson: string): string {
    const policy = JSON.parse(policyJson) as { Statement: Statement[] };
    const statements = policy.Statement.map((statement) => {
        if (statement.Condition !== undefined) {
            throw new Error(`moto evaluates no policy conditions; statement ${JSON.stringify(statement.Sid ?? "")} has one.`);
        }
        const actions = listed(statement.Action);
        const withOperations = [...new Set(actions.flatMap((action) => [action, ...(MOTO_OPERATIONS_OF_ACTION[action] ?? [])]))];
        return { ...statement, Action: withOperations, Resource: motoResource(statement, actions) };
    });
    return JSON.stringify({ ...policy, Statement: statements });
}
