import type * as pulumi from "@pulumi/pulumi";

/** What every part of a component needs to declare its resources: the component's name, its tags and itself as their parent. */
export interface ComponentContext {
    readonly name: string;
    readonly tagsFor: (resource: string) => Record<string, string>;
    readonly parent: pulumi.Resource;
}
