import * as pulumi from "@pulumi/pulumi";
import { PolicyPack } from "@pulumi/policy";
import { sshFromAnywhereAllowed, webstackPolicies } from "./policies";

new PolicyPack("webstack", {
    description: "Guards the webstack server: closed private ports, SSH only from listed blocks, IMDSv2, encryption, tags, DNS at the Elastic IP.",
    enforcementLevel: "mandatory",
    policies: webstackPolicies({ allowSshFromAnywhere: sshFromAnywhereAllowed(pulumi.runtime.allConfig()) }),
});
