import { shellQuote } from "../../provisioning/script";
import { CommandError, runCommand, tailLines, type CommandOptions, type CommandResult } from "./exec";

/** How to reach a server with the system OpenSSH client: a pinned host key and a key of its own, never a password. */
export interface SshTarget {
    readonly host: string;
    /** Defaults to 22. */
    readonly port?: number;
    readonly user: string;
    /** The private key file. */
    readonly identityFile: string;
    /** The only known_hosts file consulted: the server's pinned host keys. */
    readonly knownHostsFile: string;
}

/** Seconds an SSH connection attempt may take before it counts as failed. */
const SSH_CONNECT_TIMEOUT_SECONDS = 5;

/** The OpenSSH options that make a connection non-interactive and strict about the host key. */
function sshOptions(target: SshTarget): string[] {
    return [
        "-F",
        "none",
        "-o",
        "BatchMode=yes",
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        `UserKnownHostsFile=${target.knownHostsFile}`,
        "-o",
        "GlobalKnownHostsFile=/dev/null",
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        `IdentityFile=${target.identityFile}`,
        "-o",
        `ConnectTimeout=${SSH_CONNECT_TIMEOUT_SECONDS}`,
        "-o",
        "ServerAliveInterval=15",
        "-o",
        "LogLevel=ERROR",
        "-p",
        String(target.port ?? 22),
    ];
}

/** The `ssh` arguments that run `remoteCommand` on the target. */
export function sshArguments(target: SshTarget, remoteCommand: string): string[] {
    return [...sshOptions(target), `${target.user}@${target.host}`, "--", remoteCommand];
}

/** The command line a person types to log in, for printing. */
export function interactiveSshCommand(target: SshTarget): string {
    return ["ssh", "-i", target.identityFile, "-o", `UserKnownHostsFile=${target.knownHostsFile}`, `${target.user}@${target.host}`].join(
        " ",
    );
}

/** Runs `remoteCommand` on the target as the SSH user; throws a CommandError when it fails. */
export function sshRun(target: SshTarget, remoteCommand: string, options: CommandOptions = {}): Promise<CommandResult> {
    return runCommand("ssh", sshArguments(target, remoteCommand), options);
}

/**
 * Runs `command` on the target as root (through passwordless sudo) and returns its stdout; when it
 * fails, the error names the command and the server (not the whole ssh command line) and carries
 * the tail of its stderr.
 */
export async function sshRunAsRoot(target: SshTarget, command: string, options: CommandOptions = {}): Promise<string> {
    try {
        return (await sshRun(target, `sudo bash -c ${shellQuote(`set -euo pipefail\n${command}`)}`, options)).stdout;
    } catch (error) {
        if (error instanceof CommandError) {
            throw new Error(
                `\`${command}\` as root on ${target.host} exited with ${error.result.exitCode}:\n${tailLines(error.result.stderr)}`,
            );
        }
        throw error;
    }
}
