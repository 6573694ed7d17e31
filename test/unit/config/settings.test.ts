import { expect } from "chai";
import { ConfigReader, STACK_CONFIG } from "../../../config/configReader";
import {
    type ComponentSettings,
    keysRefusedBy,
    planSettingsOf,
    type PlanSettings,
    readComponentSettings,
    readPlanSettings,
    readSetting,
    referenceRow,
    SETTING_KEYS,
    SETTINGS,
} from "../../../config/settings";
import type { WebFleetArgs } from "../../../components/webFleet";
import type { WebServerArgs } from "../../../components/webServer";
import type { FleetServerSettings, ServerSettings } from "../../../provisioning";

/** True when every setting is an argument of the component, of a type the argument takes; false breaks the build. */
type TakenBy<Args, Settings> = [Exclude<keyof Settings, keyof Args>] extends [never]
    ? Settings extends Partial<Args>
        ? true
        : false
    : false;

describe("the settings' description", () => {
    it("lists every key once", () => {
        expect(new Set(SETTING_KEYS).size).to.equal(SETTING_KEYS.length);
        expect(SETTING_KEYS).to.include.members(["domain", "topology", "maintenanceWindow"]);
    });

    it("keeps each topology's own keys from the other, the SSH keys and allowSshFromAnywhere from a fleet", () => {
        expect(keysRefusedBy("ha")).to.include.members(["sshPublicKey", "sshPrivateKey", "allowSshFromAnywhere", "dnsTtl", "acmeEmail"]);
        expect(keysRefusedBy("single")).to.include.members(["subnetIds", "minAppServers", "databaseApplyImmediately", "deployerArns"]);
        expect(keysRefusedBy("ha").filter((key) => keysRefusedBy("single").includes(key))).to.deep.equal([]);
        for (const key of ["domain", "instanceType", "alertEmail", "maintenanceWindow"]) {
            expect(keysRefusedBy("ha").concat(keysRefusedBy("single")), key).not.to.include(key);
        }
    });

    it("writes a setting's README row from its key, type, default, topology and documentation", () => {
        expect(referenceRow("dnsTtl")).to.equal("| `dnsTtl` | integer 60–86400 | `300` | `single` | TTL of the A records, in seconds. |");
        expect(referenceRow("createApexRecord")).to.match(/^\| `createApexRecord` \| boolean \| `false` \| both \| /);
    });

    it("bounds a whole-number setting's type to its check's bounds", () => {
        for (const key of SETTING_KEYS) {
            const check = SETTINGS[key].check;
            if (check.kind === "integer") {
                expect(SETTINGS[key].type, key).to.equal(`integer ${check.bounds.min}–${check.bounds.max}`);
            }
        }
    });
});

describe("readComponentSettings", () => {
    it("reads the settings a topology's component takes, unset ones left undefined, and no other setting", () => {
        const reader = new ConfigReader({ dnsTtl: "600", minAppServers: "3", domain: "example.com" }, STACK_CONFIG);
        const single = readComponentSettings(reader, "single");
        expect(Object.keys(single)).to.include.members(["instanceType", "subnetId", "dnsTtl", "dailySnapshots", "alertEmail"]);
        for (const key of ["subnetIds", "minAppServers", "sshPublicKey", "domain", "appInstances"]) {
            expect(Object.keys(single)).not.to.include(key);
        }
        expect(single).to.deep.include({ dnsTtl: 600, createApexRecord: false, instanceType: undefined });
        expect(readComponentSettings(reader, "ha")).to.deep.include({ minAppServers: 3, databaseApplyImmediately: false });
    });

    it("passes each setting only to an argument of that name and type that its component has", () => {
        const single: TakenBy<WebServerArgs, ComponentSettings<"single">> = true;
        const ha: TakenBy<WebFleetArgs, ComponentSettings<"ha">> = true;
        expect([single, ha]).to.deep.equal([true, true]);
    });
});

describe("readPlanSettings", () => {
    it("reads every setting the server's plan takes, in either topology", () => {
        const reader = new ConfigReader({ appInstances: "4", topology: "ha" }, STACK_CONFIG);
        expect(readPlanSettings(reader)).to.deep.equal({ appInstances: 4, apiCacheSeconds: undefined });
    });

    it("passes each setting only to an argument of that name and type that a server's plan and a fleet's have", () => {
        const server: TakenBy<ServerSettings, PlanSettings> = true;
        const fleet: TakenBy<FleetServerSettings, PlanSettings> = true;
        expect([server, fleet]).to.deep.equal([true, true]);
    });
});

describe("planSettingsOf", () => {
    it("picks the plan's settings out of the stack's", () => {
        expect(planSettingsOf({ appInstances: 3, apiCacheSeconds: 0, domain: "example.com" } as PlanSettings)).to.deep.equal({
            appInstances: 3,
            apiCacheSeconds: 0,
        });
    });
});

describe("readSetting", () => {
    it("reads each kind of value as the description checks it, unset values left undefined and booleans defaulted", () => {
        const reader = new ConfigReader(
            {
                dnsTtl: "600",
                instanceType: "m7g.large",
                subnetIds: '["subnet-0123456789abcdef0","subnet-0fedcba9876543210"]',
                maintenanceAllowedCidrs: '["203.0.113.7/32"]',
                maintenanceMessage: "Back at noon.",
            },
            STACK_CONFIG,
        );
        expect(readSetting(reader, "dnsTtl")).to.equal(600);
        expect(readSetting(reader, "instanceType")).to.equal("m7g.large");
        expect(readSetting(reader, "subnetIds")).to.deep.equal(["subnet-0123456789abcdef0", "subnet-0fedcba9876543210"]);
        expect(readSetting(reader, "amiId")).to.equal(undefined);
        expect(readSetting(reader, "provision")).to.equal(true);
        expect(readSetting(reader, "maintenanceAllowedCidrs")).to.deep.equal(["203.0.113.7/32"]);
        expect(readSetting(reader, "maintenanceMessage")).to.equal("Back at noon.");
        expect(reader.problems).to.deep.equal([]);
    });

    it("reports an invalid value with the description's example, and a missing required one with why it is needed", () => {
        const reader = new ConfigReader({ instanceType: "tiny", dnsTtl: "5" }, STACK_CONFIG);
        expect(readSetting(reader, "instanceType")).to.equal(undefined);
        expect(readSetting(reader, "dnsTtl")).to.equal(undefined);
        expect(readSetting(reader, "sshPublicKey")).to.equal(undefined);
        expect(reader.problems).to.deep.equal([
            'webstack:instanceType is "tiny"; expected something like t3.micro.',
            'webstack:dnsTtl is "5"; expected a whole number from 60 to 86400, for example 300.',
            `webstack:sshPublicKey is missing; the instance's key pair is made from it. Set it with: pulumi config set webstack:sshPublicKey "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA... you@laptop" (EC2 imports ssh-ed25519 and ssh-rsa keys only)`,
        ]);
    });
});
