import * as pulumi from "@pulumi/pulumi";
import { PolicyPack } from "@pulumi/policy";
import { sshFromAnywhereAllowed } from "./ingressRules";
import { webstackPolicies } from "./policies";

new PolicyPack("webstack", {
    description:
        "Guards the webstack stack: closed private ports, SSH only from listed blocks, IMDSv2, encryption, tags, DNS into the stack, protected databases, HTTPS-only load balancers, private buckets.",
    enforcementLevel: "mandatory",
    policies: webstackPolicies({ allowSshFromAnywhere: sshFromAnywhereAllowed(pulumi.runtime.allConfig()) }),
});
