import type { IncomingHttpHeaders, RequestListener } from "node:http";

/**
 * Stand-ins for the three AWS services a fleet's server talks to: the instance metadata service
 * (IMDSv2, with the instance role's credentials), one S3 bucket's objects and Secrets Manager's
 * GetSecretValue. S3 and Secrets Manager answer only requests signed with the role's key and
 * session token, as AWS does. The unit tests serve all three on loopback, to run the servers' scripts
 * against them in milliseconds; the sandboxes serve only the metadata service
 * (`../objectStore/metadataDaemon.ts`), their S3 and Secrets Manager being moto's.
 */

/** The temporary credentials the metadata service hands the instance role. */
export interface RoleCredentials {
    readonly AccessKeyId: string;
    readonly SecretAccessKey: string;
    readonly Token: string;
    /** When they expire (ISO 8601): the AWS SDKs and CLI take no credentials without it. */
    readonly Expiration?: string;
}

/** The instance role's name, as the metadata service lists it. */
export const STAND_IN_ROLE = "webstack-app-server";

/** The credentials a stand-in hands out unless told otherwise. */
export const STAND_IN_CREDENTIALS: RoleCredentials = { AccessKeyId: "AKIDSTANDIN", SecretAccessKey: "secret", Token: "session-token" };

/** What the stand-in serves: objects by key and version, secrets by id; asked on every request, so that they may change. */
export interface AwsStandInStore {
    /** A version of an object of a versioned bucket, as S3 serves `GET /<key>?versionId=<versionId>`. */
    object(key: string, versionId: string): Buffer | undefined;
    secret(id: string): string | undefined;
    /**
     * Whether the instance profile is attached yet: until it is, the metadata service answers 404 for
     * the role, as EC2's does in a new instance's first seconds. Defaults to attached.
     */
    roleAttached?(): boolean;
}

/** One request the stand-in answered, apart from the metadata service's. */
export interface RecordedRequest {
    readonly method: string;
    readonly url: string;
    readonly headers: IncomingHttpHeaders;
    readonly body: string;
}

const METADATA_TOKEN = "metadata-token";

/** Whether a request is signed with the role's credentials: its key in the SigV4 credential scope, and its session token. */
export function signedByRole(headers: IncomingHttpHeaders, credentials: RoleCredentials): boolean {
    const authorization = String(headers.authorization ?? "");
    return (
        authorization.startsWith(`AWS4-HMAC-SHA256 Credential=${credentials.AccessKeyId}/`) &&
        headers["x-amz-security-token"] === credentials.Token
    );
}

/** The request handler of the stand-ins; it records every request but the metadata service's in `requests`. */
export function awsStandInHandler(
    store: AwsStandInStore,
    credentials: RoleCredentials = STAND_IN_CREDENTIALS,
    requests: RecordedRequest[] = [],
): RequestListener {
    return (request, response) => {
        const url = request.url ?? "";
        const answer = (status: number, body: string | Buffer) => response.writeHead(status).end(body);
        let body = "";
        request.on("data", (chunk) => (body += chunk));
        request.on("end", () => {
            if (request.method === "PUT" && url === "/latest/api/token") {
                return answer(200, METADATA_TOKEN);
            }
            if (url.startsWith("/latest/meta-data/")) {
                if (request.headers["x-aws-ec2-metadata-token"] !== METADATA_TOKEN) {
                    return answer(401, "");
                }
                if (url === "/latest/meta-data/iam/security-credentials/") {
                    return store.roleAttached?.() === false ? answer(404, "") : answer(200, STAND_IN_ROLE);
                }
                if (url === `/latest/meta-data/iam/security-credentials/${STAND_IN_ROLE}`) {
                    return answer(200, JSON.stringify({ Code: "Success", Type: "AWS-HMAC", ...credentials }));
                }
                return answer(404, "");
            }
            requests.push({ method: request.method ?? "", url, headers: request.headers, body });
            if (!signedByRole(request.headers, credentials)) {
                return answer(403, "AccessDenied");
            }
            if (request.method === "POST" && request.headers["x-amz-target"] === "secretsmanager.GetSecretValue") {
                let secretId: unknown;
                try {
                    secretId = (JSON.parse(body) as { SecretId?: unknown }).SecretId;
                } catch {
                    return answer(400, '{"__type":"ValidationException"}');
                }
                const secret = typeof secretId === "string" ? store.secret(secretId) : undefined;
                return secret === undefined
                    ? answer(400, '{"__type":"ResourceNotFoundException"}')
                    : answer(200, JSON.stringify({ ARN: secretId, SecretString: secret }));
            }
            if (request.method !== "GET") {
                return answer(405, "MethodNotAllowed");
            }
            const { pathname, searchParams } = new URL(url, "http://stand-in");
            const versionId = searchParams.get("versionId");
            if (versionId === null) {
                // Every reader pins a version; one that does not would get whatever was put last.
                return answer(400, "A GET of this stand-in names the object's versionId");
            }
            const object = store.object(decodeURIComponent(pathname.slice(1)), versionId);
            return object === undefined ? answer(404, "NoSuchVersion") : answer(200, object);
        });
    };
}
