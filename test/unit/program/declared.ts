import * as pulumi from "@pulumi/pulumi";
import { join } from "node:path";
import { mockExistingGenerations, resetRecords, resources, settle, valueOf, type RecordedResource } from "../../support/pulumiMocks";
import { devStackConfig } from "../../support/devStack";

/** The pinned declarations: written by `npx tsx test/unit/program/pinFixture.ts`, reviewed as a diff, never edited by hand. */
export const FIXTURE = join(__dirname, "fixtures", "single-topology.json");

export const PRIVATE_KEY = "-----BEGIN OPENSSH PRIVATE KEY-----\ntest\n-----END OPENSSH PRIVATE KEY-----";

/** A fleet (`topology: ha`) with every optional part: alerts, the apex record, the app's environment, maintenance. */
export const HA_TOPOLOGY_CONFIG: Readonly<Record<string, string>> = {
    "webstack:domain": "example.com",
    "webstack:topology": "ha",
    "webstack:maintenance": "true",
    "webstack:maintenanceAllowedCidrs": '["203.0.113.7/32", "2001:db8::/64"]',
    "webstack:alertEmail": "ops@example.com",
    "webstack:createApexRecord": "true",
    "webstack:appEnvironment": JSON.stringify({ API_TOKEN: "token" }),
};

/**
 * The `single` stacks whose resources are pinned in fixtures/single-topology.json: the committed dev
 * config, and one with every optional AWS feature turned on.
 */
export const SINGLE_TOPOLOGY_CONFIGS: Readonly<Record<string, Record<string, string>>> = {
    dev: { ...devStackConfig(), "webstack:sshPrivateKey": PRIVATE_KEY },
    everything: {
        ...devStackConfig(),
        "webstack:sshPrivateKey": PRIVATE_KEY,
        "webstack:acmeEmail": "admin@example.com",
        "webstack:createApexRecord": "true",
        "webstack:alertEmail": "ops@example.com",
        "webstack:dailySnapshots": "14",
        "webstack:hostedZoneId": "Z0123456789ABCDEFGHIJ",
        "webstack:subnetId": "subnet-0123456789abcdef0",
        "webstack:rootVolumeSizeGiB": "20",
        "webstack:appEnvironment": JSON.stringify({ API_TOKEN: "token" }),
    },
    /** A move to a third server, two kept: every resource of a move and of a kept server. */
    moving: { ...devStackConfig(), "webstack:sshPrivateKey": PRIVATE_KEY, "webstack:serverGenerations": "3,2,1" },
};

/**
 * What a stack declares, in a form that can be compared across versions: every resource's type,
 * name and dependencies, and the inputs of every AWS resource. The steps' scripts are left out: they
 * carry the release's id, and the plan's own tests pin them.
 */
export function declaredResources(recorded: readonly RecordedResource[]): unknown[] {
    const sorted = [...recorded].sort((a, b) => `${a.type} ${a.name}`.localeCompare(`${b.type} ${b.name}`));
    return sorted.map((resource) => ({
        type: resource.type,
        name: resource.name,
        dependsOn: [...resource.dependsOn].sort(),
        ...(resource.type.startsWith("aws:") ? { inputs: resource.inputs, secretInputs: resource.secretInputs } : {}),
    }));
}

type Program = () => Promise<Record<string, string | pulumi.Output<unknown>>>;

/** Every resource the program (index.ts) declares with this stack config, under the Pulumi mocks (install them first). */
export async function declaredByProgram(config: Record<string, string>): Promise<readonly RecordedResource[]> {
    resetRecords();
    // The update that makes the config's move: EC2 has the servers the list keeps.
    mockExistingGenerations.splice(
        0,
        mockExistingGenerations.length,
        ...(config["webstack:serverGenerations"] ?? "").split(",").slice(1).map(Number),
    );
    pulumi.runtime.setAllConfig(
        config,
        Object.keys(config).filter((key) => key.endsWith("sshPrivateKey")),
    );
    const program = (await import("../../../index")).default as unknown as Program;
    for (const output of Object.values(await program())) {
        if (typeof output !== "string") {
            await valueOf(output);
        }
    }
    await settle();
    return [...resources()];
}

/** What the program declares with this stack config, in the fixture's form ({@link declaredResources}). */
export async function declaredBy(config: Record<string, string>): Promise<unknown[]> {
    return declaredResources(await declaredByProgram(config));
}
