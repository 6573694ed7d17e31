import { expect } from "chai";
import { architectureOf, debianAmiFilters, imageArchitectureProblem, serviceAssumeRolePolicy } from "../../../components/ec2";

describe("architectureOf", () => {
    it("knows Graviton families run arm64 and the rest x86_64", () => {
        expect(architectureOf("t4g.micro")).to.equal("arm64");
        expect(architectureOf("c7gn.large")).to.equal("arm64");
        expect(architectureOf("a1.medium")).to.equal("arm64");
        expect(architectureOf("t3.micro")).to.equal("x86_64");
        expect(architectureOf("t3a.small")).to.equal("x86_64");
        expect(architectureOf("m7i.xlarge")).to.equal("x86_64");
    });
});

describe("debianAmiFilters", () => {
    it("asks for Debian 13's official images of the architecture, by Debian's name for it", () => {
        expect(debianAmiFilters("arm64")).to.deep.include({ name: "name", values: ["debian-13-arm64-*"] });
        expect(debianAmiFilters("x86_64")).to.deep.include({ name: "name", values: ["debian-13-amd64-*"] });
        expect(debianAmiFilters("x86_64")).to.deep.include({ name: "architecture", values: ["x86_64"] });
    });
});

describe("imageArchitectureProblem", () => {
    it("lets an image boot an instance type of its own architecture", () => {
        expect(imageArchitectureProblem("ami-0123456789abcdef0", "arm64", "t4g.small")).to.equal(undefined);
        expect(imageArchitectureProblem("ami-0123456789abcdef0", "x86_64", "m7i.large")).to.equal(undefined);
    });

    it("refuses an image of the other architecture, naming the image, both architectures and the fix", () => {
        expect(imageArchitectureProblem("ami-0123456789abcdef0", "x86_64", "t4g.small")).to.equal(
            "amiId ami-0123456789abcdef0 is an x86_64 image, and instanceType t4g.small runs arm64: EC2 would launch nothing. " +
                "Give an arm64 image (Debian's are named debian-13-arm64-*), or an x86_64 instance type.",
        );
    });
});

describe("serviceAssumeRolePolicy", () => {
    it("lets the one service assume the role, and nobody else", () => {
        expect(JSON.parse(serviceAssumeRolePolicy("dlm.amazonaws.com")).Statement).to.deep.equal([
            { Effect: "Allow", Principal: { Service: "dlm.amazonaws.com" }, Action: "sts:AssumeRole" },
        ]);
    });
});
