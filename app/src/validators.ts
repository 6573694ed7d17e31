/**
 * HTTP validators: a client (a browser, a CDN, nginx's cache) that holds an answer asks again with
 * its ETag and gets 304 without the body when nothing changed.
 */
import { createHash } from "node:crypto";

/** A strong entity tag of a body: the same bytes, the same tag. */
export function entityTag(body: string | Buffer): string {
    return `"${createHash("sha1").update(body).digest("base64url")}"`;
}

/** `W/"x"` and `"x"` name the same answer for If-None-Match, which compares weakly (RFC 9110, 13.1.2). */
function opaqueTag(tag: string): string {
    return tag.trim().replace(/^W\//, "");
}

/** Whether an If-None-Match header names `tag` (or is `*`): the client's copy is current. */
export function ifNoneMatchHolds(header: string | undefined, tag: string): boolean {
    if (header === undefined) {
        return false;
    }
    return header.split(",").some((candidate) => candidate.trim() === "*" || opaqueTag(candidate) === opaqueTag(tag));
}
