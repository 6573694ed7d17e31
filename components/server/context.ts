import type * as pulumi from "@pulumi/pulumi";

/** What every part of a server needs to declare its resources: the component's name, its tags and itself as their parent. */
export interface ServerContext {
    readonly name: string;
    readonly tagsFor: (resource: string) => Record<string, string>;
    readonly parent: pulumi.Resource;
}
