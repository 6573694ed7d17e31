import { expect } from "chai";
import { apexDomainProblem, siteNames, siteUrl, wwwHostName } from "../../../provisioning/site";

describe("the site's names", () => {
    it("serves www.<domain>, with the apex only when asked", () => {
        expect(wwwHostName("example.com")).to.equal("www.example.com");
        expect(siteNames("example.com", false)).to.deep.equal(["www.example.com"]);
        expect(siteNames("example.com", true)).to.deep.equal(["www.example.com", "example.com"]);
    });

    it("gives the URL a visitor types, https when the site serves it", () => {
        expect(siteUrl("example.com", false)).to.equal("http://www.example.com");
        expect(siteUrl("example.com", true)).to.equal("https://www.example.com");
    });

    it("accepts an apex domain, and says what is wrong with anything else", () => {
        expect(apexDomainProblem("example.com")).to.equal(undefined);
        expect(apexDomainProblem("Example")).to.match(/^is not a lowercase domain name; give the apex domain, for example example\.com$/);
        expect(apexDomainProblem("www.example.com")).to.equal(
            'starts with "www."; give the apex domain (example.com): the site is served as www.<domain>',
        );
    });
});
