import { createHash } from "node:crypto";
import { resultOf, type ObjectStore } from "../objectStore/objectStore";

/**
 * How the fleet sandbox puts a plan's objects in its bucket, as the deployer (the sandbox's admin),
 * the way Pulumi's BucketObjectv2 resources do on AWS: an object whose content changed gets a new
 * version, which S3 names; one whose content did not keeps the version it has, so that publishing the
 * same plan twice writes nothing new and renders the same index and user data.
 */

/** One version of an object, as S3's ListObjectVersions lists it. */
interface ListedVersion {
    readonly Key: string;
    readonly VersionId: string;
    readonly ETag: string;
    readonly IsLatest: boolean;
}

/** The latest version of each key among `versions`, with its ETag. */
function latestVersions(versions: readonly ListedVersion[]): Map<string, { versionId: string; etag: string }> {
    return new Map(
        versions
            .filter((version) => version.IsLatest)
            .map((version) => [version.Key, { versionId: version.VersionId, etag: version.ETag }]),
    );
}

/** The ETag S3 gives an object put in one part without KMS: its content's MD5, quoted. */
export function singlePartEtag(content: Buffer): string {
    return `"${createHash("md5").update(content).digest("hex")}"`;
}

/** Puts an object of the plan unless its latest version has the same content, and resolves with the version that holds it. */
export type PutPlanObject = (key: string, content: string | Buffer) => Promise<string>;

/** A {@link PutPlanObject} into `store`'s bucket (the plan's alone), which compares with its objects' versions as they are now. */
export async function planPublisher(store: ObjectStore): Promise<PutPlanObject> {
    const listed = resultOf(
        await store.call(store.admin, "list_object_versions", { Bucket: store.bucket }),
        `Listing the versions in ${store.bucket}`,
    );
    // A key beyond the first page of a long history is put again: a new version of the same content, which is harmless.
    const latest = latestVersions((listed.Versions as ListedVersion[] | undefined) ?? []);
    return async (key, content) => {
        const bytes = Buffer.from(content);
        const current = latest.get(key);
        if (current?.etag === singlePartEtag(bytes)) {
            return current.versionId;
        }
        const put = resultOf(
            await store.call(store.admin, "put_object", { Bucket: store.bucket, Key: key, BodyBase64: bytes.toString("base64") }),
            `Putting ${key}`,
        );
        return String(put.VersionId);
    };
}
