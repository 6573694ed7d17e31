import { readFileSync } from "node:fs";
import { runCommand } from "../host/exec";

/** Decodes the octal escapes (\040 for a space) that /proc/mounts uses in paths. */
function decodeMountPath(field: string): string {
    return field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
}

/** The mount points at or below `directory` in /proc/mounts text, deepest first (the order to unmount them). */
export function mountPointsUnder(procMounts: string, directory: string): string[] {
    const prefix = directory.replace(/\/+$/, "");
    return procMounts
        .split("\n")
        .filter((line) => line.trim() !== "")
        .map((line) => decodeMountPath(line.split(" ")[1]))
        .filter((point) => point === prefix || point.startsWith(`${prefix}/`))
        .sort((a, b) => b.length - a.length);
}

/**
 * Unmounts everything at or below `directory`, so that removing it can never reach into a mounted
 * /proc or the base image. Lazy, because a process that is still exiting may hold a mount.
 */
export async function unmountAllUnder(directory: string): Promise<void> {
    for (const point of mountPointsUnder(readFileSync("/proc/mounts", "utf8"), directory)) {
        await runCommand("umount", ["--lazy", point]);
    }
}
