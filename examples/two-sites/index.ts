/**
 * Two sites in one stack, the way a program outside this repository uses webstack: each its own
 * server, domain, snapshots and alerts, both from the same release of the app. Run it with
 * `pulumi up` from this folder, after `pulumi config set --secret sshPrivateKey < key` and
 * `pulumi config set sshPublicKey "$(cat key.pub)"`; CI runs it under Pulumi's mocks.
 */
import * as pulumi from "@pulumi/pulumi";
import { buildPlan, buildRelease, WebServer } from "../../components";

const SITES = [
    { name: "blog", domain: "blog-example.com" },
    { name: "shop", domain: "shop-example.com", instanceType: "t4g.small" },
] as const;

export = async () => {
    const config = new pulumi.Config();
    const release = await buildRelease();
    const outputs: Record<string, pulumi.Output<string> | string> = {};
    for (const site of SITES) {
        const server = new WebServer(site.name, {
            domain: site.domain,
            instanceType: "instanceType" in site ? site.instanceType : undefined,
            sshPublicKey: config.require("sshPublicKey"),
            sshAllowedCidrs: config.requireObject<string[]>("sshAllowedCidrs"),
            alertEmail: config.get("alertEmail"),
            provisioning: {
                plan: buildPlan({ domain: site.domain, appInstances: 2, release }),
                sshPrivateKey: config.requireSecret("sshPrivateKey"),
            },
        });
        outputs[`${site.name}Url`] = server.url;
        outputs[`${site.name}Ip`] = server.publicIp;
    }
    return outputs;
};
