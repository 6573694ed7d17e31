import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { apexDomainProblem, wwwHostName } from "../../provisioning/site";
import { isProcessAlive } from "../host/host";
import { runCommand, sleep } from "../host/exec";

/**
 * The sandbox's Route53: a dnsmasq on the host end of the veth pair that answers `<domain>` and
 * `www.<domain>` with the server's address and NXDOMAIN for any other name in the domain. It does
 * not recurse for anyone; the one exception is the name of Debian's mirror, which it forwards to
 * the host's own resolver so that the guest's apt works (the guest uses this dnsmasq as its resolver,
 * the way an EC2 instance uses the VPC resolver).
 */

export const DEFAULT_DOMAIN = "webstack.test";
/** The only outside names the guest can resolve: Debian's mirror (also serving debian-security). */
const FORWARDED_NAMES = ["deb.debian.org"] as const;

/** Throws unless `domain` is a lowercase domain name that DNS can answer for (for example webstack.test). */
export function checkedSandboxDomain(domain: string): string {
    const problem = apexDomainProblem(domain);
    if (problem !== undefined) {
        throw new Error(`Domain "${domain}" ${problem} (the sandbox's default is webstack.test).`);
    }
    return domain;
}

export interface DnsSettings {
    readonly domain: string;
    /** Where dnsmasq listens: the host end of the sandbox's veth pair. */
    readonly listenAddress: string;
    /** The server's address, the answer for the domain and its www name. */
    readonly serverAddress: string;
    /** The host's resolvers, asked only for {@link FORWARDED_NAMES}. */
    readonly upstreamResolvers: readonly string[];
    /** More names and their address (the fleet sandbox's database and its AWS). Defaults to none. */
    readonly hostRecords?: readonly { readonly names: readonly string[]; readonly address: string }[];
    readonly pidFile: string;
    readonly logFile: string;
}

/** The IPv4 nameservers of a resolv.conf text. */
export function resolvConfNameservers(resolvConf: string): string[] {
    return resolvConf
        .split("\n")
        .map((line) => /^\s*nameserver\s+(\d+\.\d+\.\d+\.\d+)\s*$/.exec(line))
        .filter((match): match is RegExpExecArray => match !== null)
        .map((match) => match[1]);
}

/** dnsmasq's configuration file for a sandbox. */
export function dnsmasqConfig(settings: DnsSettings): string {
    const { listenAddress, serverAddress } = settings;
    const domain = checkedSandboxDomain(settings.domain);
    return [
        `listen-address=${listenAddress}`,
        "bind-interfaces",
        // Answers come from this file only: not the host's /etc/hosts, not its resolv.conf.
        "no-hosts",
        "no-resolv",
        "no-poll",
        `local=/${domain}/`,
        `host-record=${domain},${wwwHostName(domain)},${serverAddress}`,
        ...(settings.hostRecords ?? []).map((record) => `host-record=${[...record.names, record.address].join(",")}`),
        ...FORWARDED_NAMES.flatMap((name) => settings.upstreamResolvers.map((resolver) => `server=/${name}/${resolver}`)),
        `pid-file=${settings.pidFile}`,
        `log-facility=${settings.logFile}`,
        "log-queries",
        "",
    ].join("\n");
}

/** The guest's /etc/resolv.conf: the sandbox's dnsmasq. */
export function guestResolvConf(dnsServer: string): string {
    return `nameserver ${dnsServer}\n`;
}

function readPid(pidFile: string): number | undefined {
    try {
        const pid = Number(readFileSync(pidFile, "utf8").trim());
        return Number.isInteger(pid) && pid > 0 ? pid : undefined;
    } catch {
        return undefined;
    }
}

/** Starts the sandbox's dnsmasq (it daemonizes and writes its pid file). */
export async function startDnsServer(configFile: string, settings: DnsSettings): Promise<void> {
    writeFileSync(configFile, dnsmasqConfig(settings));
    await runCommand("dnsmasq", [`--conf-file=${configFile}`]);
}

/** Starts the sandbox's dnsmasq again from its configuration file: after its address went away with the server's network and came back. */
export async function restartDnsServer(configFile: string, pidFile: string): Promise<void> {
    await stopDnsServer(pidFile);
    await runCommand("dnsmasq", [`--conf-file=${configFile}`]);
}

/** Stops the sandbox's dnsmasq if it runs; waits until it has gone so that its address is free. */
export async function stopDnsServer(pidFile: string): Promise<void> {
    const pid = readPid(pidFile);
    if (pid !== undefined && isProcessAlive(pid)) {
        process.kill(pid, "SIGTERM");
        for (let attempt = 0; attempt < 50 && isProcessAlive(pid); attempt++) {
            await sleep(100);
        }
    }
    rmSync(pidFile, { force: true });
}
