/**
 * The fleet sandbox's AWS stand-ins as a process of their own, started detached by the fleet so that
 * they outlive the CLI: `node <tsx> awsStandInDaemon.ts CONFIG.json`. The metadata service listens
 * on plain HTTP (the fleet's nftables rule sends 169.254.169.254:80 there), S3 and Secrets Manager on
 * HTTPS with the sandbox CA's certificate for their AWS names. Objects and secrets are read from disk
 * on every request, so that a new release or a rotated password is served at once.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { join, normalize } from "node:path";
import { contentSha256 } from "../../components/fleet/firstBoot";
import { awsStandInHandler, type AwsStandInStore } from "./awsStandIn";

export interface AwsStandInConfig {
    readonly address: string;
    readonly metadataPort: number;
    readonly httpsPort: number;
    readonly certificateFile: string;
    readonly keyFile: string;
    /** A version of an object is the file `<key>/<versionId>` below this directory. */
    readonly objectsDir: string;
    /** A JSON object of secret ids and their strings. */
    readonly secretsFile: string;
    readonly pidFile: string;
}

/**
 * Puts `content` at `key` in the objects directory as a new version, and returns its version id.
 * S3 names each put's version anew; the sandbox names it by its content, so that publishing a
 * release twice writes nothing new.
 */
export function putObjectVersion(objectsDir: string, key: string, content: string | Buffer): string {
    const versionId = contentSha256(content).slice(0, 32);
    mkdirSync(join(objectsDir, key), { recursive: true });
    writeFileSync(join(objectsDir, key, versionId), content);
    return versionId;
}

/** Object versions and secrets from disk; a key or version that would leave the objects directory is no object. */
export function diskStore(config: Pick<AwsStandInConfig, "objectsDir" | "secretsFile">): AwsStandInStore {
    return {
        object: (key, versionId) => {
            const path = normalize(join(config.objectsDir, key, versionId));
            return path.startsWith(`${config.objectsDir}/`) && existsSync(path) && statSync(path).isFile() ? readFileSync(path) : undefined;
        },
        secret: (id) => (JSON.parse(readFileSync(config.secretsFile, "utf8")) as Record<string, string>)[id],
    };
}

function main(configFile: string): void {
    const config = JSON.parse(readFileSync(configFile, "utf8")) as AwsStandInConfig;
    const handler = awsStandInHandler(diskStore(config));
    createHttpServer(handler).listen(config.metadataPort, config.address);
    createHttpsServer({ cert: readFileSync(config.certificateFile), key: readFileSync(config.keyFile) }, handler).listen(
        config.httpsPort,
        config.address,
    );
    writeFileSync(config.pidFile, `${process.pid}\n`);
}

if (require.main === module) {
    main(process.argv[2]);
}
