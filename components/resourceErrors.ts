import * as pulumi from "@pulumi/pulumi";

/**
 * A checker bound to a component: it returns the value `build` gives, or throws `build`'s error as a
 * ResourceError of the component, after the argument it is about when the message does not say.
 */
export function checkerFor(resource: pulumi.Resource): <T>(argument: string | undefined, build: () => T) => T {
    return (argument, build) => {
        try {
            return build();
        } catch (error) {
            const message = error instanceof Error ? error.message : String(error);
            throw new pulumi.ResourceError(argument === undefined ? message : `${argument}: ${message}`, resource);
        }
    };
}
