import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import type { ComponentContext } from "../context";

/**
 * The subnets' zones, refused unless the load balancer and the group can use them: one subnet per
 * zone (the load balancer takes no more), at least two zones (one zone's outage must leave the site
 * up), one VPC, and only zones that offer the instance type (`offeredZones`). Every problem at once.
 */
export function checkedZones(
    subnets: readonly { id: string; availabilityZone: string; vpcId: string }[],
    instanceType: string,
    offeredZones: readonly string[],
): string[] {
    const zones = [...new Set(subnets.map((subnet) => subnet.availabilityZone))].sort();
    const problems: string[] = [];
    for (const zone of zones) {
        const inZone = subnets.filter((subnet) => subnet.availabilityZone === zone).map((subnet) => subnet.id);
        if (inZone.length > 1) {
            problems.push(
                `subnetIds ${inZone.join(" and ")} are both in ${zone}; the load balancer takes one subnet per zone, so give one of them`,
            );
        }
        if (!offeredZones.includes(zone)) {
            problems.push(
                `${zone} (subnet ${inZone.join(", ")}) does not offer ${instanceType}; give subnets in ${offeredZones.join(", ") || "zones that offer it"}, or another instanceType`,
            );
        }
    }
    if (zones.length < 2) {
        problems.push(
            `subnetIds are all in ${zones.join(", ") || "no zone"}; give public subnets in at least two availability zones, so that the load balancer, the app servers and the database survive one zone's outage`,
        );
    }
    const vpcs = [...new Set(subnets.map((subnet) => subnet.vpcId))];
    if (vpcs.length !== 1) {
        problems.push(`subnetIds are in ${vpcs.length} VPCs (${vpcs.join(", ")}); give subnets of one VPC`);
    }
    if (problems.length > 0) {
        throw new Error(`${problems.join("; ")}.`);
    }
    return zones;
}

/** The default VPC's default subnets (one per availability zone) in the zones that offer the instance type. */
function defaultSubnetIds(offeredZones: pulumi.Output<string[]>, parent: pulumi.InvokeOutputOptions): pulumi.Output<string[]> {
    const vpc = aws.ec2.getVpcOutput({ default: true }, parent);
    return aws.ec2
        .getSubnetsOutput(
            {
                filters: [
                    { name: "vpc-id", values: [vpc.id] },
                    { name: "default-for-az", values: ["true"] },
                    { name: "availability-zone", values: offeredZones },
                ],
            },
            parent,
        )
        .apply((found) => [...found.ids].sort());
}

/** Where a fleet runs: its subnets, its VPC's address block, and the security groups of its three tiers. */
export interface FleetNetwork {
    readonly subnetIds: pulumi.Input<string[]>;
    readonly vpcId: pulumi.Output<string>;
    readonly vpcCidr: pulumi.Output<string>;
    readonly groups: {
        readonly loadBalancer: aws.ec2.SecurityGroup;
        readonly app: aws.ec2.SecurityGroup;
        readonly database: aws.ec2.SecurityGroup;
    };
}

/**
 * The subnets (given, or the default VPC's in zones that offer the instance type; checked with
 * {@link checkedZones}) and three security groups: the world reaches the load balancer on 80 and 443,
 * the load balancer the app servers on 80, the app servers the database on 3306, and nothing else.
 */
export function declareNetwork(
    context: ComponentContext,
    settings: {
        readonly instanceType: string;
        readonly subnetIds?: string[];
        readonly checked: <T>(argument: string | undefined, build: () => T) => T;
    },
): FleetNetwork {
    const { name, tagsFor } = context;
    const parent = { parent: context.parent };
    const { instanceType, checked } = settings;
    // The default VPC has a subnet in every zone, and not every zone offers every instance type.
    const offeredZones = aws.ec2
        .getInstanceTypeOfferingsOutput(
            { locationType: "availability-zone", filters: [{ name: "instance-type", values: [instanceType] }] },
            parent,
        )
        .apply((offerings) => [...offerings.locations].sort());
    const subnetIds = settings.subnetIds ?? defaultSubnetIds(offeredZones, parent);
    const subnets = pulumi.output(subnetIds).apply((ids) => pulumi.all(ids.map((id) => aws.ec2.getSubnetOutput({ id }, parent))));
    const vpcId = pulumi.all([subnets, offeredZones]).apply(([found, offered]) => {
        checked("subnetIds", () => checkedZones(found, instanceType, offered));
        return found[0].vpcId;
    });
    const vpcCidr = aws.ec2.getVpcOutput({ id: vpcId }, parent).apply((vpc) => vpc.cidrBlock);

    const everywhere = { cidrBlocks: ["0.0.0.0/0"], ipv6CidrBlocks: ["::/0"] };
    const loadBalancer = new aws.ec2.SecurityGroup(
        `${name}-lb-sg`,
        {
            vpcId,
            description: `webstack ${name}: the load balancer, HTTP and HTTPS from anywhere`,
            ingress: [
                { description: "HTTP from anywhere (redirected to HTTPS)", protocol: "tcp", fromPort: 80, toPort: 80, ...everywhere },
                { description: "HTTPS from anywhere", protocol: "tcp", fromPort: 443, toPort: 443, ...everywhere },
            ],
            egress: [{ description: "HTTP to the app servers", protocol: "tcp", fromPort: 80, toPort: 80, cidrBlocks: [vpcCidr] }],
            tags: tagsFor("lb-sg"),
        },
        parent,
    );
    const app = new aws.ec2.SecurityGroup(
        `${name}-app-sg`,
        {
            vpcId,
            description: `webstack ${name}: the app servers, HTTP from the load balancer only`,
            ingress: [
                {
                    description: "HTTP from the load balancer",
                    protocol: "tcp",
                    fromPort: 80,
                    toPort: 80,
                    securityGroups: [loadBalancer.id],
                },
            ],
            egress: [
                {
                    description: "All outbound (packages, S3, Secrets Manager, the database)",
                    protocol: "-1",
                    fromPort: 0,
                    toPort: 0,
                    ...everywhere,
                },
            ],
            tags: tagsFor("app-sg"),
        },
        parent,
    );
    const database = new aws.ec2.SecurityGroup(
        `${name}-db-sg`,
        {
            vpcId,
            description: `webstack ${name}: the database, MariaDB from the app servers only`,
            ingress: [
                { description: "MariaDB from the app servers", protocol: "tcp", fromPort: 3306, toPort: 3306, securityGroups: [app.id] },
            ],
            egress: [],
            tags: tagsFor("db-sg"),
        },
        parent,
    );
    return { subnetIds, vpcId, vpcCidr, groups: { loadBalancer, app, database } };
}
