import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isIpv4Address } from "../../provisioning/formats";
import { runCommand } from "../host/exec";

/**
 * The fleet sandbox's certificate authority, made with openssl for each fleet: it signs what AWS's
 * public CAs and RDS's CA sign in AWS (the load balancer's certificate, S3's and Secrets Manager's
 * names, the database's), and the fleet's servers and the tests trust it.
 */

export interface CertificateAuthority {
    readonly certFile: string;
    readonly keyFile: string;
    readonly certPem: string;
}

export interface IssuedCertificate {
    readonly certFile: string;
    readonly keyFile: string;
    readonly certPem: string;
    readonly keyPem: string;
}

const DAYS_VALID = "30";

/** The openssl extensions of a server certificate for `names`: DNS names, and IPv4 addresses for a client that connects by address. */
export function serverCertificateExtensions(names: readonly string[]): string {
    if (names.length === 0) {
        throw new Error("A server certificate needs at least one name.");
    }
    return [
        "basicConstraints = critical, CA:FALSE",
        "keyUsage = critical, digitalSignature, keyEncipherment",
        "extendedKeyUsage = serverAuth",
        `subjectAltName = ${names.map((name) => (isIpv4Address(name) ? `IP:${name}` : `DNS:${name}`)).join(", ")}`,
        "",
    ].join("\n");
}

/** A new CA in `directory`: an EC P-256 key and a self-signed certificate. */
export async function createCertificateAuthority(directory: string, commonName: string): Promise<CertificateAuthority> {
    mkdirSync(directory, { recursive: true, mode: 0o700 });
    const keyFile = join(directory, "ca.key");
    const certFile = join(directory, "ca.pem");
    await runCommand("openssl", ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", keyFile]);
    await runCommand("openssl", [
        "req",
        "-x509",
        "-new",
        "-key",
        keyFile,
        "-sha256",
        "-days",
        DAYS_VALID,
        "-subj",
        `/CN=${commonName}`,
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
        "-out",
        certFile,
    ]);
    return { certFile, keyFile, certPem: readFileSync(certFile, "utf8") };
}

/** A server certificate for `names`, signed by the CA, as `<directory>/<label>.pem` and `.key`. */
export async function issueCertificate(
    ca: CertificateAuthority,
    directory: string,
    label: string,
    names: readonly string[],
): Promise<IssuedCertificate> {
    const keyFile = join(directory, `${label}.key`);
    const requestFile = join(directory, `${label}.csr`);
    const extensionsFile = join(directory, `${label}.ext`);
    const certFile = join(directory, `${label}.pem`);
    writeFileSync(extensionsFile, serverCertificateExtensions(names));
    await runCommand("openssl", ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", keyFile]);
    await runCommand("openssl", ["req", "-new", "-key", keyFile, "-subj", `/CN=${names[0]}`, "-out", requestFile]);
    await runCommand("openssl", [
        "x509",
        "-req",
        "-in",
        requestFile,
        "-CA",
        ca.certFile,
        "-CAkey",
        ca.keyFile,
        "-CAcreateserial",
        "-sha256",
        "-days",
        DAYS_VALID,
        "-extfile",
        extensionsFile,
        "-out",
        certFile,
    ]);
    return { certFile, keyFile, certPem: readFileSync(certFile, "utf8"), keyPem: readFileSync(keyFile, "utf8") };
}
