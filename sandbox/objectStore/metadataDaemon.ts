/**
 * The instance metadata service of a sandbox server, as a process of its own: IMDSv2 with the server
 * role's temporary credentials from the sandbox's S3 (moto's STS), on plain HTTP, where the sandbox's
 * nftables rule sends the server's requests for 169.254.169.254:80. `node <tsx> metadataDaemon.ts CONFIG.json`.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { awsStandInHandler, type RoleCredentials } from "../fleet/awsStandIn";

export interface MetadataConfig {
    readonly address: string;
    readonly port: number;
    readonly credentials: RoleCredentials;
    readonly pidFile: string;
}

/** What the metadata service serves besides credentials: nothing, since the sandbox's S3 and Secrets Manager are moto. */
const NO_OBJECTS = { object: () => undefined, secret: () => undefined };

function main(configFile: string): void {
    const config = JSON.parse(readFileSync(configFile, "utf8")) as MetadataConfig;
    createServer(awsStandInHandler(NO_OBJECTS, config.credentials)).listen(config.port, config.address, () =>
        writeFileSync(config.pidFile, `${process.pid}\n`),
    );
}

if (require.main === module) {
    main(process.argv[2]);
}
