import { expect } from "chai";
import { appServerRangeProblem, checkedWholeNumber, cidrsProblem, wholeNumberProblem } from "../../../provisioning/settingChecks";

const BOUNDS = { min: 1, max: 35, example: 7 };

describe("wholeNumberProblem", () => {
    it("accepts a whole number within the bounds, the bounds included", () => {
        for (const value of [1, 7, 35]) {
            expect(wholeNumberProblem("days", value, BOUNDS), String(value)).to.equal(undefined);
        }
    });

    it("names the setting, the value as the user wrote it, the bounds and the example", () => {
        expect(wholeNumberProblem("days", 36, BOUNDS)).to.equal("days is 36; expected a whole number from 1 to 35, for example 7.");
        expect(wholeNumberProblem("webstack:days", NaN, BOUNDS, '"ten"')).to.equal(
            'webstack:days is "ten"; expected a whole number from 1 to 35, for example 7.',
        );
        expect(wholeNumberProblem("days", 2.5, BOUNDS)).to.equal("days is 2.5; expected a whole number from 1 to 35, for example 7.");
    });
});

describe("checkedWholeNumber", () => {
    it("returns a number within the bounds and throws the problem otherwise", () => {
        expect(checkedWholeNumber("days", 7, BOUNDS)).to.equal(7);
        expect(() => checkedWholeNumber("days", 0, BOUNDS)).to.throw("days is 0; expected a whole number from 1 to 35");
    });
});

describe("cidrsProblem", () => {
    it("accepts IPv4 and IPv6 blocks", () => {
        expect(cidrsProblem("blocks", ["203.0.113.7/32", "2001:db8::/64", "0.0.0.0/0"])).to.equal(undefined);
    });

    it("names every item that is not a block in one problem", () => {
        expect(cidrsProblem("blocks", ["203.0.113.7"])).to.equal(
            'blocks has "203.0.113.7", which is not a CIDR block; expected for example 203.0.113.7/32 or 2001:db8::/64.',
        );
        expect(cidrsProblem("blocks", ["office", "10.0.0.0/8", "10.0.0.0/33"])).to.equal(
            'blocks has "office", "10.0.0.0/33", which are not CIDR blocks; expected for example 203.0.113.7/32 or 2001:db8::/64.',
        );
    });
});

describe("appServerRangeProblem", () => {
    const names = { min: "min", max: "max" };

    it("accepts a maximum at or above the minimum", () => {
        expect(appServerRangeProblem(names, 2, 2)).to.equal(undefined);
        expect(appServerRangeProblem(names, 2, 4)).to.equal(undefined);
    });

    it("names both settings and what to set when the maximum is below the minimum", () => {
        expect(appServerRangeProblem(names, 4, 3)).to.equal("max is 3, fewer than min (4); set it to 4 or more.");
    });
});
