import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";

/**
 * The committed dev stack's config as `pulumi.runtime.allConfig()` returns it: every value a
 * string, structured values (lists) as JSON.
 */
export function devStackConfig(): Record<string, string> {
    const file = path.join(__dirname, "..", "..", "Pulumi.dev.yaml");
    const document = parse(fs.readFileSync(file, "utf8")) as { config: Record<string, unknown> };
    return Object.fromEntries(
        Object.entries(document.config).map(([key, value]) => [key, typeof value === "string" ? value : JSON.stringify(value)]),
    );
}
