import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import type { ComponentContext } from "../context";

export interface IngressRule {
    readonly description: string;
    readonly protocol: "tcp";
    readonly fromPort: number;
    readonly toPort: number;
    readonly cidrBlocks: string[];
    readonly ipv6CidrBlocks: string[];
}

/** The only ways in: HTTP and HTTPS from anywhere, SSH from the allowed blocks. Nothing else. */
export function ingressRules(sshAllowedCidrs: readonly string[]): IngressRule[] {
    const web = (description: string, port: number): IngressRule => ({
        description,
        protocol: "tcp",
        fromPort: port,
        toPort: port,
        cidrBlocks: ["0.0.0.0/0"],
        ipv6CidrBlocks: ["::/0"],
    });
    return [
        web("HTTP from anywhere", 80),
        web("HTTPS from anywhere", 443),
        {
            description: "SSH from the allowed blocks",
            protocol: "tcp",
            fromPort: 22,
            toPort: 22,
            cidrBlocks: sshAllowedCidrs.filter((cidr) => !cidr.includes(":")),
            ipv6CidrBlocks: sshAllowedCidrs.filter((cidr) => cidr.includes(":")),
        },
    ];
}

/**
 * The security group a deploy run opens SSH in for its own address while it runs, and closes after
 * (.github/scripts/runner-ssh-access.sh): Pulumi creates it empty and leaves its ingress alone, so
 * those short-lived rules never show as drift. No rule of its own: outbound traffic is the main group's.
 */
export function deployAccessGroupName(serverName: string): string {
    return `${serverName}-deploy-access`;
}

/**
 * The server's two security groups: the main one ({@link ingressRules}, all outbound), and the empty
 * deploy-access one ({@link deployAccessGroupName}). `checkedCidrs` refuses blocks that are no CIDR.
 */
export function declareFirewall(
    context: ComponentContext,
    settings: {
        readonly subnetId?: pulumi.Input<string>;
        readonly sshAllowedCidrs: pulumi.Input<readonly pulumi.Input<string>[]>;
        readonly checkedCidrs: (cidrs: readonly string[]) => readonly string[];
    },
): { securityGroup: aws.ec2.SecurityGroup; deployAccess: aws.ec2.SecurityGroup } {
    const { name, tagsFor } = context;
    const parent = { parent: context.parent };
    const vpcId =
        settings.subnetId === undefined
            ? undefined
            : aws.ec2.getSubnetOutput({ id: settings.subnetId }, parent).apply((subnet) => subnet.vpcId);
    const securityGroup = new aws.ec2.SecurityGroup(
        `${name}-sg`,
        {
            vpcId,
            description: `webstack ${name}: HTTP and HTTPS from anywhere, SSH from allowed blocks`,
            ingress: pulumi.output(settings.sshAllowedCidrs).apply((cidrs) => ingressRules(settings.checkedCidrs(cidrs))),
            egress: [
                {
                    description: "All outbound",
                    protocol: "-1",
                    fromPort: 0,
                    toPort: 0,
                    cidrBlocks: ["0.0.0.0/0"],
                    ipv6CidrBlocks: ["::/0"],
                },
            ],
            tags: tagsFor("sg"),
        },
        parent,
    );
    const deployAccess = new aws.ec2.SecurityGroup(
        deployAccessGroupName(name),
        {
            vpcId,
            description: `webstack ${name}: SSH from the deploy run in progress only (rules added and removed by the run)`,
            egress: [],
            tags: tagsFor("deploy-access"),
        },
        { ...parent, ignoreChanges: ["ingress"] },
    );
    return { securityGroup, deployAccess };
}
