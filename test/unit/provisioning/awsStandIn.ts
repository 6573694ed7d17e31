import * as http from "http";
import type { AddressInfo } from "net";

/** One request a stand-in answered, apart from the metadata service's. */
export interface RecordedRequest {
    readonly method: string;
    readonly url: string;
    readonly headers: http.IncomingHttpHeaders;
    readonly body: string;
}

export interface AwsStandIn {
    readonly url: string;
    readonly requests: RecordedRequest[];
    close(): void;
}

/** What the stand-in serves: S3 objects by key, Secrets Manager secrets by id. */
export interface AwsStandInContent {
    readonly objects?: Map<string, Buffer>;
    readonly secrets?: Map<string, string>;
}

/**
 * Stand-ins on loopback for the instance metadata service (IMDSv2, with one role's credentials),
 * one S3 bucket and Secrets Manager's GetSecretValue, recording every request but the metadata's.
 */
export function startAwsStandIn(content: AwsStandInContent): Promise<AwsStandIn> {
    const requests: RecordedRequest[] = [];
    const server = http.createServer((request, response) => {
        const url = request.url ?? "";
        const answer = (status: number, body: string | Buffer) => response.writeHead(status).end(body);
        let body = "";
        request.on("data", (chunk) => (body += chunk));
        request.on("end", () => {
            if (request.method === "PUT" && url === "/latest/api/token") {
                return answer(200, "metadata-token");
            }
            if (url.startsWith("/latest/meta-data/")) {
                if (request.headers["x-aws-ec2-metadata-token"] !== "metadata-token") {
                    return answer(401, "");
                }
                if (url === "/latest/meta-data/iam/security-credentials/") {
                    return answer(200, "webstack-app-server");
                }
                if (url === "/latest/meta-data/iam/security-credentials/webstack-app-server") {
                    return answer(200, JSON.stringify({ AccessKeyId: "AKIDSTANDIN", SecretAccessKey: "secret", Token: "session-token" }));
                }
                return answer(404, "");
            }
            requests.push({ method: request.method ?? "", url, headers: request.headers, body });
            if (request.method === "POST" && request.headers["x-amz-target"] === "secretsmanager.GetSecretValue") {
                const secret = content.secrets?.get((JSON.parse(body) as { SecretId: string }).SecretId);
                return secret === undefined ? answer(400, '{"__type":"ResourceNotFoundException"}') : answer(200, JSON.stringify({ SecretString: secret }));
            }
            const object = content.objects?.get(url.slice(1));
            return object === undefined ? answer(404, "NoSuchKey") : answer(200, object);
        });
    });
    return new Promise((resolve) => {
        server.listen(0, "127.0.0.1", () => {
            const { port } = server.address() as AddressInfo;
            resolve({ url: `http://127.0.0.1:${port}`, requests, close: () => server.close() });
        });
    });
}
