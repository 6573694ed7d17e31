import * as pulumi from "@pulumi/pulumi";

/** The tags of a component's resource: project, stack, the caller's own, and a Name of `<component>-<resource>`. */
export function tagsFor(componentName: string, extra: Record<string, string> = {}): (resource: string) => Record<string, string> {
    return (resource) => ({ project: "webstack", stack: pulumi.getStack(), ...extra, Name: `${componentName}-${resource}` });
}

/**
 * What names a component's server in this stack whatever instance runs it, `<stack>-<component>`: its
 * snapshots' target tag and its prefix in the backup bucket, which a replacement server finds again.
 */
export function stackServerName(componentName: string): string {
    return `${pulumi.getStack()}-${componentName}`;
}
