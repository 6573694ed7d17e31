import { expect } from "chai";
import { releaseIdProblem } from "../../release/release";

describe("releaseIdProblem", () => {
    it("takes what names a directory and a file: 1 to 64 letters, digits, dots, dashes or underscores", () => {
        for (const id of ["a1b2c3d4e5f6", "v1.2.3", "test-release", "dev", "x".repeat(64)]) {
            expect(releaseIdProblem(id), id).to.equal(undefined);
        }
    });

    it("refuses a path, a space, a leading dot and more than 64 characters, quoting the id", () => {
        for (const id of ["../x", "my release", ".hidden", "x".repeat(65), ""]) {
            expect(releaseIdProblem(id), id).to.match(
                /; expected 1 to 64 letters, digits, dots, dashes or underscores, starting with a letter or digit/,
            );
        }
        expect(releaseIdProblem("my release")).to.match(/^is "my release"; /);
    });
});
