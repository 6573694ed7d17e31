/**
 * Two sites in one stack, the way a program outside this repository uses webstack, each with its
 * own server, snapshots and alerts: a blog running the posts app on a domain whose zone exists, and
 * a shop running its own app (examples/minimal-app) in a zone this program creates, with an API
 * token in its environment. Run it with `pulumi up` from this folder, after
 * `pulumi config set --secret sshPrivateKey < key`, `pulumi config set sshPublicKey "$(cat key.pub)"`,
 * `pulumi config set --path 'sshAllowedCidrs[0]' 203.0.113.7/32` and
 * `pulumi config set --secret shopApiToken <token>`; CI runs it under Pulumi's mocks.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { buildRelease, WebServer } from "../../components";
import { MINIMAL_APP } from "../minimal-app";

export = async () => {
    const config = new pulumi.Config();
    const access = {
        sshPublicKey: config.require("sshPublicKey"),
        sshAllowedCidrs: config.requireObject<string[]>("sshAllowedCidrs"),
        alertEmail: config.get("alertEmail"),
    };
    const sshPrivateKey = config.requireSecret("sshPrivateKey");

    const blog = new WebServer("blog", {
        ...access,
        domain: "blog-example.com",
        provisioning: { release: await buildRelease(), sshPrivateKey },
    });

    const shopZone = new aws.route53.Zone("shop-zone", { name: "shop-example.com", forceDestroy: false });
    const shop = new WebServer("shop", {
        ...access,
        domain: shopZone.name,
        hostedZoneId: shopZone.zoneId,
        instanceType: "t4g.small",
        provisioning: {
            release: await buildRelease({ app: MINIMAL_APP }),
            appInstances: 3,
            appEnvironment: { API_TOKEN: config.requireSecret("shopApiToken") },
            sshPrivateKey,
        },
    });

    return {
        blogUrl: blog.url,
        blogIp: blog.publicIp,
        shopUrl: shop.url,
        shopIp: shop.publicIp,
        shopNameServers: shopZone.nameServers,
    };
};
