import { expect } from "chai";
import { ConfigError, ConfigReader, ENVIRONMENT, STACK_CONFIG } from "../../../config/configReader";

const BOUNDS = { min: 1, max: 65535, example: 3000 };

describe("ConfigReader", () => {
    it("names a key and how to set it as its source does: the stack's config or the environment", () => {
        const stack = new ConfigReader({}, STACK_CONFIG);
        const environment = new ConfigReader({}, ENVIRONMENT);
        stack.required("domain", /./, "example.com", "the site is served as www.<domain>.");
        environment.integer("PORT", BOUNDS, "the TCP port to listen on.");
        expect(stack.problems).to.deep.equal([
            "webstack:domain is missing; the site is served as www.<domain>. Set it with: pulumi config set webstack:domain example.com",
        ]);
        expect(environment.problems).to.deep.equal(["PORT is missing; the TCP port to listen on. Set it with: PORT=3000"]);
    });

    it("takes only digits as a whole number, and leaves an unset one undefined without a problem unless required", () => {
        const reader = new ConfigReader({ A: "1e2", B: "0x10", C: " 42 " }, ENVIRONMENT);
        expect([
            reader.integer("A", BOUNDS),
            reader.integer("B", BOUNDS),
            reader.integer("C", BOUNDS),
            reader.integer("D", BOUNDS),
        ]).to.deep.equal([undefined, undefined, 42, undefined]);
        expect(reader.problems).to.deep.equal([
            'A is "1e2"; expected a whole number from 1 to 65535, for example 3000.',
            'B is "0x10"; expected a whole number from 1 to 65535, for example 3000.',
        ]);
    });

    it("puts the key before the problem a text's own rule finds, and passes a text it finds none in", () => {
        const reader = new ConfigReader({ A: "short", B: "much too long" }, STACK_CONFIG);
        const tooLong = (text: string) => (text.length > 5 ? `is ${text.length} characters long; at most 5 fit` : undefined);
        expect([reader.satisfying("A", tooLong), reader.satisfying("B", tooLong), reader.satisfying("C", tooLong)]).to.deep.equal([
            "short",
            undefined,
            undefined,
        ]);
        expect(reader.problems).to.deep.equal(["webstack:B is 13 characters long; at most 5 fit."]);
    });

    it("reads a list of CIDR blocks, naming every item that is not one in one problem", () => {
        const reader = new ConfigReader({ A: '["203.0.113.7/32", "2001:db8::/64"]', B: '["office", "10.0.0.1"]' }, STACK_CONFIG);
        expect(reader.cidrList("A", '["203.0.113.7/32"]')).to.deep.equal(["203.0.113.7/32", "2001:db8::/64"]);
        expect(reader.cidrList("B", '["203.0.113.7/32"]')).to.equal(undefined);
        expect(reader.problems).to.deep.equal([
            'webstack:B has "office", "10.0.0.1", which are not CIDR blocks; expected for example 203.0.113.7/32 or 2001:db8::/64.',
        ]);
    });

    it("returns the value it checked when there is no problem, and throws one ConfigError listing every problem otherwise", () => {
        expect(new ConfigReader({}, ENVIRONMENT).checked("value")).to.equal("value");
        const reader = new ConfigReader({ A: "yes" }, STACK_CONFIG);
        reader.boolean("A", false);
        reader.problems.push("another problem");
        expect(() => reader.checked("value"))
            .to.throw(ConfigError, 'Invalid configuration:\n  - webstack:A is "yes"; expected true or false.\n  - another problem')
            .with.property("problems")
            .that.has.length(2);
    });
});
