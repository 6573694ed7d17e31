import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { CLIENT_KEEPALIVE_SECONDS, LOAD_BALANCER_HEALTH_PATH } from "../../provisioning/files/nginx";
import { APP_STOP_TIMEOUT_SECONDS } from "../../provisioning/files/systemd";
import { siteNames } from "../../provisioning/site";
import { siteRecordNames } from "../ec2";
import type { ComponentContext } from "../context";

/**
 * How long the load balancer keeps an idle connection, to a client or to a target: shorter than
 * nginx's keep-alive, so that nginx never closes a connection the load balancer is about to reuse
 * (AWS's advice; the other way round some requests would meet a closing connection and get a 502).
 */
export const LOAD_BALANCER_IDLE_TIMEOUT_SECONDS = CLIENT_KEEPALIVE_SECONDS - 5;

/** AWS's TLS policy for the load balancer: TLS 1.3, and 1.2 with forward secrecy only. */
export const LOAD_BALANCER_TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06";

/**
 * The load balancer's check of an app server, which Auto Scaling follows too: an app instance
 * answers through nginx ({@link LOAD_BALANCER_HEALTH_PATH}, not the database: a failover must not
 * replace every server), out after two failures ten seconds apart. A new server is in service only
 * after its first boot's deploy saw every instance answer the release's own health path, database
 * included.
 */
export function targetHealthCheck(): aws.types.input.lb.TargetGroupHealthCheck {
    return {
        enabled: true,
        protocol: "HTTP",
        port: "traffic-port",
        path: LOAD_BALANCER_HEALTH_PATH,
        matcher: "200",
        interval: 10,
        timeout: 5,
        healthyThreshold: 2,
        unhealthyThreshold: 2,
    };
}

/**
 * How long the load balancer lets a leaving server finish its requests before it closes them: the
 * app's own drain (its stop timeout), so a server taken out never loses a request it accepted.
 */
export const DEREGISTRATION_DELAY_SECONDS = APP_STOP_TIMEOUT_SECONDS;

interface CertificateSettings {
    readonly domain: pulumi.Output<string>;
    readonly createApexRecord: boolean;
    readonly zoneId: pulumi.Input<string>;
}

/** ACM's certificate for www (and the apex when asked), validated through the zone's DNS: its ARN once issued. */
function declareCertificate(context: ComponentContext, site: CertificateSettings): pulumi.Output<string> {
    const { name, tagsFor } = context;
    const parent = { parent: context.parent };
    const names = site.domain.apply((domain) => siteNames(domain, site.createApexRecord));
    const certificate = new aws.acm.Certificate(
        `${name}-certificate`,
        {
            domainName: names.apply((all) => all[0]),
            subjectAlternativeNames: names.apply((all) => all.slice(1)),
            validationMethod: "DNS",
            keyAlgorithm: "EC_prime256v1",
            tags: tagsFor("certificate"),
        },
        { ...parent },
    );
    const validationRecords = (site.createApexRecord ? [0, 1] : [0]).map((position) => {
        const option = pulumi.all([certificate.domainValidationOptions, names]).apply(([options, all]) => {
            const found = options.find((candidate) => candidate.domainName === all[position]);
            if (found === undefined) {
                throw new pulumi.ResourceError(`ACM gave no DNS validation record for ${all[position]}.`, context.parent);
            }
            return found;
        });
        return new aws.route53.Record(
            `${name}-certificate-validation-${position === 0 ? "www" : "apex"}`,
            {
                zoneId: site.zoneId,
                name: option.apply((found) => found.resourceRecordName),
                type: option.apply((found) => found.resourceRecordType),
                records: [option.apply((found) => found.resourceRecordValue)],
                ttl: 300,
                allowOverwrite: true,
            },
            parent,
        );
    });
    const validation = new aws.acm.CertificateValidation(
        `${name}-certificate-validation`,
        { certificateArn: certificate.arn, validationRecordFqdns: validationRecords.map((record) => record.fqdn) },
        parent,
    );
    return validation.certificateArn;
}

/** ELB's limit on the name of a load balancer and of a target group. */
export const MAX_ELB_NAME_LENGTH = 32;

/** What Pulumi's autonaming adds to a resource's name for AWS: a dash and seven random hexadecimal characters. */
export const AUTONAME_SUFFIX_LENGTH = 8;

/** The target group's name after the fleet's: the longest ELB name the fleet has Pulumi generate. */
const TARGET_GROUP_SUFFIX = "-app-tg";

/**
 * The names AWS takes for every resource Pulumi names after the fleet: ELB's letters, digits and
 * hyphens, and RDS's identifiers, which start with a letter and hold no two hyphens in a row.
 */
const FLEET_NAME_FORM = /^[A-Za-z](?:-?[A-Za-z0-9])*$/;

/**
 * The fleet's name; throws unless the names Pulumi generates from the fleet's name fit ELB's limit (a longer one
 * stops every preview with autonaming's "plus 7 random chars is longer than maximum length 32") and
 * the form ELB and RDS take (another fails `pulumi up` half-way, at the load balancer or the database).
 */
export function checkedFleetName(name: string): string {
    if (!FLEET_NAME_FORM.test(name)) {
        throw new Error(
            `the fleet's name "${name}" names its load balancer and its database, so it takes a letter, then letters, digits and single hyphens, not one last, for example "webstack".`,
        );
    }
    const longest = MAX_ELB_NAME_LENGTH - AUTONAME_SUFFIX_LENGTH - TARGET_GROUP_SUFFIX.length;
    if (name.length > longest) {
        throw new Error(
            `the fleet's name "${name}" is ${name.length} characters; its target group is named "${name}${TARGET_GROUP_SUFFIX}" and 8 random characters, and ELB takes ${MAX_ELB_NAME_LENGTH} at most, so the name takes ${longest} at most, for example "webstack".`,
        );
    }
    return name;
}

/** The site's front door: the load balancer, its app servers' target group, HTTPS with ACM's certificate, HTTP redirected, and the alias records. */
export function declareLoadBalancer(
    context: ComponentContext,
    site: {
        readonly subnetIds: pulumi.Input<string[]>;
        readonly vpcId: pulumi.Input<string>;
        readonly securityGroupId: pulumi.Input<string>;
        readonly domain: pulumi.Output<string>;
        readonly createApexRecord: boolean;
        readonly zoneId: pulumi.Input<string>;
    },
): { loadBalancer: aws.lb.LoadBalancer; targetGroup: aws.lb.TargetGroup; httpsListener: aws.lb.Listener } {
    const { name, tagsFor } = context;
    const parent = { parent: context.parent };
    const loadBalancer = new aws.lb.LoadBalancer(
        `${name}-lb`,
        {
            loadBalancerType: "application",
            internal: false,
            securityGroups: [site.securityGroupId],
            subnets: site.subnetIds,
            dropInvalidHeaderFields: true,
            enableHttp2: true,
            idleTimeout: LOAD_BALANCER_IDLE_TIMEOUT_SECONDS,
            tags: tagsFor("lb"),
        },
        parent,
    );
    const targetGroup = new aws.lb.TargetGroup(
        `${name}${TARGET_GROUP_SUFFIX}`,
        {
            vpcId: site.vpcId,
            port: 80,
            protocol: "HTTP",
            targetType: "instance",
            deregistrationDelay: DEREGISTRATION_DELAY_SECONDS,
            healthCheck: targetHealthCheck(),
            tags: tagsFor("app-tg"),
        },
        parent,
    );
    const certificateArn = declareCertificate(context, {
        domain: site.domain,
        createApexRecord: site.createApexRecord,
        zoneId: site.zoneId,
    });
    const httpsListener = new aws.lb.Listener(
        `${name}-https`,
        {
            loadBalancerArn: loadBalancer.arn,
            port: 443,
            protocol: "HTTPS",
            sslPolicy: LOAD_BALANCER_TLS_POLICY,
            certificateArn,
            defaultActions: [{ type: "forward", targetGroupArn: targetGroup.arn }],
            tags: tagsFor("https"),
        },
        parent,
    );
    new aws.lb.Listener(
        `${name}-http`,
        {
            loadBalancerArn: loadBalancer.arn,
            port: 80,
            protocol: "HTTP",
            defaultActions: [{ type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } }],
            tags: tagsFor("http"),
        },
        parent,
    );
    for (const [record, recordName] of Object.entries(siteRecordNames(site.domain, site.createApexRecord))) {
        new aws.route53.Record(
            `${name}-${record}-record`,
            {
                zoneId: site.zoneId,
                name: recordName,
                type: "A",
                aliases: [{ name: loadBalancer.dnsName, zoneId: loadBalancer.zoneId, evaluateTargetHealth: true }],
                // Moving from a single server, the fleet takes the name over in one UPSERT: no moment
                // without a record for resolvers to cache as missing (see docs/moving-to-ha.md).
                allowOverwrite: true,
            },
            parent,
        );
    }
    return { loadBalancer, targetGroup, httpsListener };
}
