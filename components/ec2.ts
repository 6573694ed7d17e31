import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import { checkedDomain, wwwHostName } from "../provisioning/site";

/** The EC2 pieces WebServer and WebFleet share: their defaults, the Debian image, IMDSv2, roles, the site's zone and names. */

/** What either component's servers get when the caller says nothing: a t3.micro with a 16 GiB encrypted gp3 disk. */
export const EC2_DEFAULTS = { instanceType: "t3.micro", rootVolumeSizeGiB: 16 } as const;

/** Instance metadata only with an IMDSv2 session token, one network hop away (no container on the server reaches it). */
export const IMDSV2_ONLY = { httpEndpoint: "enabled", httpTokens: "required", httpPutResponseHopLimit: 1 } as const;

/**
 * The CPU architecture an instance type runs: AWS Graviton families carry a `g` after the generation
 * (t4g, m7g, c7gn), and the first Graviton family is a1.
 */
export function architectureOf(instanceType: string): "x86_64" | "arm64" {
    const family = /^([a-z]+)(\d+)([a-z-]*)\./.exec(instanceType);
    const graviton = family !== null && (family[3].startsWith("g") || `${family[1]}${family[2]}` === "a1");
    return graviton ? "arm64" : "x86_64";
}

/** Debian's own AWS account, which publishes the official Debian AMIs. */
export const DEBIAN_AMI_OWNER = "136693071363";

/** The filters that find the newest official Debian 13 image for an architecture. */
export function debianAmiFilters(architecture: "x86_64" | "arm64"): aws.types.input.ec2.GetAmiFilter[] {
    const debianArchitecture = architecture === "arm64" ? "arm64" : "amd64";
    return [
        { name: "name", values: [`debian-13-${debianArchitecture}-*`] },
        { name: "architecture", values: [architecture] },
        { name: "virtualization-type", values: ["hvm"] },
        { name: "root-device-type", values: ["ebs"] },
    ];
}

/** The newest official Debian 13 image for the instance type's architecture. */
export function newestDebianImageId(instanceType: string, parent: pulumi.InvokeOutputOptions): pulumi.Output<string> {
    return aws.ec2
        .getAmiOutput({ owners: [DEBIAN_AMI_OWNER], mostRecent: true, filters: debianAmiFilters(architectureOf(instanceType)) }, parent)
        .apply((ami) => ami.id);
}

/** Why EC2 cannot boot `instanceType` from the image `amiId` of `imageArchitecture`, or undefined when it can. */
export function imageArchitectureProblem(amiId: string, imageArchitecture: string, instanceType: string): string | undefined {
    const wanted = architectureOf(instanceType);
    if (imageArchitecture === wanted) {
        return undefined;
    }
    return (
        `amiId ${amiId} is an ${imageArchitecture} image, and instanceType ${instanceType} runs ${wanted}: EC2 would launch nothing. ` +
        `Give an ${wanted} image (Debian's are named debian-13-${wanted === "arm64" ? "arm64" : "amd64"}-*), or an ${imageArchitecture} instance type.`
    );
}

/** The image to boot: the caller's, checked against the instance type's architecture, else the newest official Debian 13 image for it. */
export function serverImageId(
    amiId: pulumi.Input<string> | undefined,
    instanceType: string,
    parent: { parent: pulumi.Resource },
): pulumi.Output<string> {
    if (amiId === undefined) {
        return newestDebianImageId(instanceType, parent);
    }
    return pulumi.output(amiId).apply((id) =>
        aws.ec2.getAmiOutput({ filters: [{ name: "image-id", values: [id] }] }, parent).apply((image) => {
            const problem = imageArchitectureProblem(id, image.architecture, instanceType);
            if (problem !== undefined) {
                throw new pulumi.ResourceError(problem, parent.parent);
            }
            return id;
        }),
    );
}

/** An instance the stack runs (found by its Name and stack tags), as EC2 describes it. */
export interface RunningInstance {
    readonly instanceType: string;
    readonly ami: string;
    /** The user data it was launched with, as text ("" when none). */
    readonly userData: string;
}

/** The first instance the stack runs with the Name tag `name`, or undefined before there is one. */
export function runningInstanceNamed(name: string, parent: pulumi.InvokeOutputOptions): pulumi.Output<RunningInstance | undefined> {
    return aws.ec2
        .getInstancesOutput(
            { instanceTags: { Name: name, stack: pulumi.getStack() }, instanceStateNames: ["pending", "running", "stopping", "stopped"] },
            parent,
        )
        .apply((found) =>
            found.ids.length === 0
                ? pulumi.output(undefined)
                : aws.ec2.getInstanceOutput({ instanceId: found.ids[0], getUserData: true }, parent).apply((instance) => ({
                      instanceType: instance.instanceType,
                      ami: instance.ami,
                      userData: Buffer.from(instance.userDataBase64 ?? "", "base64").toString("utf8"),
                  })),
        );
}

/** The public address EC2 gives an instance now (its Elastic IP once associated; none while it is stopped). */
export function currentPublicIp(instanceId: pulumi.Input<string>, parent: pulumi.InvokeOutputOptions): pulumi.Output<string> {
    return aws.ec2.getInstanceOutput({ instanceId }, parent).apply((instance) => instance.publicIp);
}

/** The trust policy that lets an AWS service (EC2's instances, Data Lifecycle Manager) act through a role. */
export function serviceAssumeRolePolicy(service: "ec2.amazonaws.com" | "dlm.amazonaws.com"): string {
    return JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }],
    });
}

/** The site's apex domain, checked at once when it is plain text and when it resolves otherwise; `check` turns a problem into the component's error. */
export function checkedSiteDomain(
    domain: pulumi.Input<string>,
    check: <T>(argument: string | undefined, build: () => T) => T,
): pulumi.Output<string> {
    if (typeof domain === "string") {
        check(undefined, () => checkedDomain(domain));
    }
    return pulumi.output(domain).apply((apex) => check(undefined, () => checkedDomain(apex)));
}

/** The Route53 zone the site's records go in: the caller's, else the public zone named after the domain. */
export function siteZoneId(
    domain: pulumi.Output<string>,
    hostedZoneId: pulumi.Input<string> | undefined,
    parent: pulumi.InvokeOutputOptions,
): pulumi.Input<string> {
    return hostedZoneId ?? aws.route53.getZoneOutput({ name: domain, privateZone: false }, parent).apply((zone) => zone.zoneId);
}

/** The names the site's records take, by the record's short name: www always, the apex when asked. */
export function siteRecordNames(domain: pulumi.Output<string>, createApexRecord: boolean): Record<string, pulumi.Output<string>> {
    return { www: domain.apply(wwwHostName), ...(createApexRecord ? { apex: domain } : {}) };
}
