import type * as pulumi from "@pulumi/pulumi";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { resourceNamed, resources, type RecordedResource } from "./pulumiMocks";

/**
 * What a recorded run step runs: the uploaded script its stdin launches (read from the directory
 * that its launcher's upload copies), or its stdin itself when the script stays there (a step that
 * holds secrets).
 */
export async function scriptRunBy(step: RecordedResource, declared: readonly RecordedResource[] = resources()): Promise<string> {
    const stdin = String(step.inputs.stdin);
    const launched = /its script came with (\S+)\. [\s\S]*?\nscript='[^']*\/([^'/]+)'\n/.exec(stdin);
    if (launched === null) {
        return stdin;
    }
    const [, uploadName, fileName] = launched;
    const upload = declared.find((resource) => resource.type === "command:remote:CopyToRemote" && resource.name === uploadName);
    if (upload === undefined) {
        throw new Error(`Step ${step.name} launches a script from ${uploadName}, which the program did not declare.`);
    }
    return readFileSync(join(await shippedScriptsDirectory(upload), fileName), "utf8");
}

/** {@link scriptRunBy} of the recorded Command named `name`. */
export function scriptRunByStep(name: string): Promise<string> {
    return scriptRunBy(resourceNamed("command:remote:Command", name));
}

/** The local directory that a recorded scripts upload copies to the server. */
export function shippedScriptsDirectory(upload: RecordedResource): Promise<string> {
    return (upload.inputs.source as pulumi.asset.FileArchive).path;
}
