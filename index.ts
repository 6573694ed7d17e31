import * as pulumi from "@pulumi/pulumi";
import { buildPlan, buildRelease, RemoteProvisioner, siteUrl, type ServerSettings, WebFleet, WebServer } from "./components";
import { stackServerName } from "./components/tags";
import { PREVIEW_KEY_PLACEHOLDER, readStackSettings, StackSettings } from "./config/stackConfig";
import { planSettingsOf } from "./config/settings";

async function serverSettings(settings: StackSettings): Promise<ServerSettings> {
    // The apex goes into the certificate only when its DNS record points here, or the challenge fails.
    const includeApex = settings.hosting.kind === "new-server" && settings.hosting.createApexRecord;
    return {
        ...planSettingsOf(settings),
        release: await buildRelease(),
        tls: settings.tls && { ...settings.tls, includeApex },
        maintenance: settings.maintenance,
        maintenanceWindow: settings.maintenanceWindow,
    };
}

/** The source's settings but its kind: each is its component's argument of the same name (config/settings.ts). */
function componentArguments<Source extends { readonly kind: string }>({ kind: _kind, ...settings }: Source): Omit<Source, "kind"> {
    return settings;
}

export = async () => {
    const settings = readStackSettings(pulumi.runtime.allConfig(), {
        isPreview: pulumi.runtime.isDryRun(),
        hasSshAgent: (process.env.SSH_AUTH_SOCK ?? "") !== "",
    });
    // Without a key in the config, pulumi-command logs in through the ssh-agent of the process that runs Pulumi.
    const sshPrivateKey = new pulumi.Config("webstack").getSecret("sshPrivateKey");
    const appEnvironment = settings.appEnvironment && pulumi.secret(settings.appEnvironment);
    // A pull request's preview has no access to the server, so it does not ask it about drift.
    const checkDrift = pulumi.runtime.allConfig()["webstack:sshPrivateKey"] !== PREVIEW_KEY_PLACEHOLDER;

    if (settings.hosting.kind === "fleet") {
        const site = new WebFleet("webstack", {
            domain: settings.domain,
            ...componentArguments(settings.hosting),
            maintenance: settings.maintenance,
            maintenanceWindow: settings.maintenanceWindow,
            provisioning: {
                ...planSettingsOf(settings),
                release: await buildRelease(),
                appEnvironment,
            },
        });
        return {
            url: site.url,
            hostName: site.hostName,
            loadBalancerName: site.loadBalancerName,
            groupName: site.groupName,
            databaseEndpoint: site.databaseEndpoint,
            databaseIdentifier: site.databaseIdentifier,
            bucketName: site.bucketName,
        };
    }

    if (settings.hosting.kind === "existing-server") {
        const backupBucket = settings.hosting.backupBucket;
        new RemoteProvisioner("webstack", {
            connection: { host: settings.hosting.host, user: settings.sshUser, privateKey: sshPrivateKey, hostKey: settings.sshHostKey },
            // A new host key is a new server at that address (or one rebuilt from scratch): every step runs
            // on it again, uploads included, which an update of the connection alone would not copy.
            serverIdentity: settings.sshHostKey === undefined ? undefined : [settings.sshHostKey],
            plan: buildPlan(await serverSettings(settings)),
            domain: settings.domain,
            appEnvironment,
            // The prefix a WebServer named so gives its own server's backups: a server moving either way finds them.
            backupBucket: backupBucket && { ...backupBucket, prefix: stackServerName("webstack") },
            checkDrift,
        });
        const url = siteUrl(settings.domain, settings.tls !== undefined);
        return {
            url,
            hostName: settings.hostName,
            publicIp: settings.hosting.host,
            sshCommand: `ssh ${settings.sshUser}@${settings.hosting.host}`,
        };
    }

    const server = new WebServer("webstack", {
        domain: settings.domain,
        ...componentArguments(settings.hosting),
        provisioning: settings.provision
            ? {
                  ...(await serverSettings(settings)),
                  appEnvironment,
                  sshPrivateKey,
                  sshUser: settings.sshUser,
                  sshHostKey: settings.sshHostKey,
                  checkDrift,
              }
            : undefined,
    });
    return {
        url: server.url,
        hostName: server.hostName,
        publicIp: server.publicIp,
        instanceId: server.instanceId,
        sshCommand: server.sshCommand,
        deployAccessGroupId: server.deployAccessGroupId,
        backupBucket: server.backupBucket,
    };
};
