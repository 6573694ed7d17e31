import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { siteRecordNames, siteZoneId } from "../ec2";
import type { ComponentContext } from "../context";

/** Where the site's names point: the Elastic IP, which outlives a replaced instance, and its A records. */
export interface ServerAddress {
    readonly elasticIp: aws.ec2.Eip;
    readonly records: aws.route53.Record[];
}

/** The server's Elastic IP and an A record for www.<domain> (and the apex, when asked) pointing at it. */
export function declareAddress(
    context: ComponentContext,
    args: {
        instanceId: pulumi.Input<string>;
        domain: pulumi.Output<string>;
        hostedZoneId: pulumi.Input<string> | undefined;
        createApexRecord: boolean;
        dnsTtl: pulumi.Input<number>;
    },
): ServerAddress {
    const { name, tagsFor, parent } = context;
    const elasticIp = new aws.ec2.Eip(`${name}-eip`, { domain: "vpc", instance: args.instanceId, tags: tagsFor("eip") }, { parent });
    const zoneId = siteZoneId(args.domain, args.hostedZoneId, { parent });
    const records = Object.entries(siteRecordNames(args.domain, args.createApexRecord)).map(
        ([record, recordName]) =>
            new aws.route53.Record(
                `${name}-${record}-record`,
                { zoneId, name: recordName, type: "A", ttl: args.dnsTtl, records: [elasticIp.publicIp], allowOverwrite: false },
                { parent },
            ),
    );
    return { elasticIp, records };
}
