import * as http from "http";
import type { AddressInfo } from "net";
import { awsStandInHandler, type RecordedRequest } from "../../sandbox/fleet/awsStandIn";

export type { RecordedRequest };

export interface AwsStandIn {
    readonly url: string;
    readonly requests: RecordedRequest[];
    close(): void;
}

/** An object version's entry in {@link AwsStandInContent.objects}. */
export function versionEntry(key: string, versionId: string): string {
    return `${key}?versionId=${versionId}`;
}

/** What the stand-in serves: S3 object versions by {@link versionEntry}, Secrets Manager secrets by id. */
export interface AwsStandInContent {
    readonly objects?: Map<string, Buffer>;
    readonly secrets?: Map<string, string>;
    /** How many times the metadata service answers 404 for the role before the instance profile is attached. Defaults to 0. */
    readonly roleMissingFor?: number;
}

/** The sandbox's stand-ins for the metadata service, S3 and Secrets Manager, on loopback over plain HTTP. */
export function startAwsStandIn(content: AwsStandInContent): Promise<AwsStandIn> {
    const requests: RecordedRequest[] = [];
    let roleMissingFor = content.roleMissingFor ?? 0;
    const store = {
        object: (key: string, versionId: string) => content.objects?.get(versionEntry(key, versionId)),
        secret: (id: string) => content.secrets?.get(id),
        roleAttached: () => roleMissingFor-- <= 0,
    };
    const server = http.createServer(awsStandInHandler(store, undefined, requests));
    return new Promise((resolve) => {
        server.listen(0, "127.0.0.1", () => {
            const { port } = server.address() as AddressInfo;
            resolve({ url: `http://127.0.0.1:${port}`, requests, close: () => server.close() });
        });
    });
}
