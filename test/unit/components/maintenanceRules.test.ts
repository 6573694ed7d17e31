import { expect } from "chai";
import { allowedCidrCountProblem } from "../../../components/fleet/maintenanceRules";

describe("allowedCidrCountProblem", () => {
    const blocks = (count: number) => Array.from({ length: count }, (_, index) => `203.0.113.${index}/32`);

    it("accepts up to five blocks, what a listener rule's source-ip condition takes", () => {
        expect(allowedCidrCountProblem("blocks", blocks(0))).to.equal(undefined);
        expect(allowedCidrCountProblem("blocks", blocks(5))).to.equal(undefined);
    });

    it("names the setting, the count, the limit and the fix past it", () => {
        expect(allowedCidrCountProblem("blocks", blocks(6))).to.equal(
            "blocks has 6 blocks; the load balancer's rule takes 5 at most: join them into wider blocks.",
        );
    });
});
