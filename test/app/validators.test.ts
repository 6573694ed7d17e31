import { expect } from "chai";
import { entityTag, ifNoneMatchHolds } from "../../app/src/validators";

describe("entityTag", () => {
    it("gives the same bytes the same quoted tag, and other bytes another", () => {
        expect(entityTag('{"posts":[]}')).to.equal(entityTag(Buffer.from('{"posts":[]}')));
        expect(entityTag('{"posts":[]}')).to.match(/^"[A-Za-z0-9_-]+"$/);
        expect(entityTag('{"posts":[1]}')).not.to.equal(entityTag('{"posts":[]}'));
    });
});

describe("ifNoneMatchHolds", () => {
    const tag = entityTag("body");

    it("holds for the tag, its weak form (nginx's gzip weakens tags), a list naming it, and *", () => {
        for (const header of [tag, `W/${tag}`, `"a", ${tag} , "b"`, "*"]) {
            expect(ifNoneMatchHolds(header, tag), header).to.equal(true);
        }
    });

    it("does not hold without the header or for other tags", () => {
        expect(ifNoneMatchHolds(undefined, tag)).to.equal(false);
        expect(ifNoneMatchHolds('"other"', tag)).to.equal(false);
        expect(ifNoneMatchHolds("", tag)).to.equal(false);
    });
});
