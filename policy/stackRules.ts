/** The rules that judge a resource against others of the stack, so they run on the whole stack's outputs. */
import { asProps, records, strings, TYPES, type ResourceView, type StackViolation } from "./resourceView";

/** Every A record of the stack points at the stack's Elastic IP(s), or is an alias of the stack's load balancer, and nothing else. */
export function dnsRecordViolations(resources: readonly ResourceView[]): StackViolation[] {
    const addresses = resources
        .filter((resource) => resource.type === TYPES.eip)
        .map((eip) => eip.props.publicIp)
        .filter((address): address is string => typeof address === "string");
    const loadBalancers = resources
        .filter((resource) => resource.type === TYPES.loadBalancer)
        .map((loadBalancer) => loadBalancer.props.dnsName)
        .filter((name): name is string => typeof name === "string");
    const inStack = (record: ResourceView) => {
        const targets = strings(record.props.records);
        const aliases = records(record.props.aliases).map((alias) => alias.name);
        return (
            targets.length + aliases.length > 0 &&
            targets.every((target) => addresses.includes(target)) &&
            aliases.every((alias) => loadBalancers.includes(alias as string))
        );
    };
    return resources
        .filter((resource) => resource.type === TYPES.record && resource.props.type === "A" && !inStack(resource))
        .map((record) => {
            const targets = [
                ...strings(record.props.records),
                ...records(record.props.aliases).map((alias) => `alias ${String(alias.name)}`),
            ];
            return {
                urn: record.urn,
                message: `The A record ${String(record.props.name)} points at ${targets.join(", ") || "nothing"}, not at the stack's Elastic IP (${addresses.join(", ") || "none"}) or load balancer (${loadBalancers.join(", ") || "none"}).`,
            };
        });
}

/** Every bucket of the stack is closed to the public, versioned and encrypted, by settings that name it. */
export function bucketViolations(resources: readonly ResourceView[]): StackViolation[] {
    const settingOf = (type: string, bucket: string) =>
        resources.find((resource) => resource.type === type && resource.props.bucket === bucket)?.props;
    return resources
        .filter((resource) => resource.type === TYPES.bucket)
        .flatMap((bucket) => {
            const name = String(bucket.props.bucket);
            const publicAccess = settingOf(TYPES.bucketPublicAccess, name);
            const versioning = settingOf(TYPES.bucketVersioning, name);
            const encryption = settingOf(TYPES.bucketEncryption, name);
            const missing = [
                ...(["blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets"].every(
                    (key) => publicAccess?.[key] === true,
                )
                    ? []
                    : ["a public access block with all four settings true"]),
                ...(asProps(versioning?.versioningConfiguration).status === "Enabled" ? [] : ["versioning enabled"]),
                ...(records(encryption?.rules).length > 0 ? [] : ["default server-side encryption"]),
            ];
            return missing.length === 0 ? [] : [{ urn: bucket.urn, message: `The bucket ${name} needs ${missing.join(", ")}.` }];
        });
}
