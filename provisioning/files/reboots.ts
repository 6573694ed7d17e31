/**
 * Reboots for updates: a weekly maintenance window (a day and a time, UTC) in which the server
 * reboots when an update asked for it, after a fresh backup; with no window it never reboots by
 * itself and its metric says a reboot is pending.
 */
import { BACKUP_UNIT, REBOOT_COMMAND, REBOOT_REQUIRED_FILE, SHIP_BACKUPS_UNIT } from "../layout";
import { renderCommand, scriptBody } from "../script";

export const WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"] as const;
export type Weekday = (typeof WEEKDAYS)[number];

/** When the server may reboot each week: a day and a time of day, UTC. */
export interface MaintenanceWindow {
    readonly day: Weekday;
    readonly hour: number;
    readonly minute: number;
}

/** What the stack's config and the plan take, and errors give as the example. */
export const MAINTENANCE_WINDOW_EXAMPLE = "Sun 03:00";

const WINDOW_TEXT = /^([A-Za-z]{3})\s+(\d{1,2}):(\d{2})$/;

/**
 * `Sun 03:00` as a window, or the problem with the text: a day's three-letter name (any case) and a
 * time of day on a 24-hour clock, UTC.
 */
export function parseMaintenanceWindow(text: string): MaintenanceWindow | { readonly problem: string } {
    const match = WINDOW_TEXT.exec(text.trim());
    const expected = `expected a day and a time of day in UTC, for example "${MAINTENANCE_WINDOW_EXAMPLE}" (the day one of ${WEEKDAYS.join(", ")})`;
    if (match === null) {
        return { problem: `is ${JSON.stringify(text)}; ${expected}` };
    }
    const day = WEEKDAYS.find((name) => name.toLowerCase() === match[1].toLowerCase());
    const hour = Number(match[2]);
    const minute = Number(match[3]);
    if (day === undefined || hour > 23 || minute > 59) {
        return { problem: `is ${JSON.stringify(text)}; ${expected}` };
    }
    return { day, hour, minute };
}

/** A minute of the day on a 24-hour clock: 180 is `03:00`. */
export function clockTime(minuteOfDay: number): string {
    const twoDigits = (value: number) => String(value).padStart(2, "0");
    return `${twoDigits(Math.floor(minuteOfDay / 60))}:${twoDigits(minuteOfDay % 60)}`;
}

/** The minute of the day the window starts at. */
export function windowStartMinute(window: MaintenanceWindow): number {
    return window.hour * 60 + window.minute;
}

/** The window as it reads in config and messages: `Sun 03:00`. */
export function formatMaintenanceWindow(window: MaintenanceWindow): string {
    return `${window.day} ${clockTime(windowStartMinute(window))}`;
}

/** The window as systemd's OnCalendar: `Sun *-*-* 03:00:00 UTC`. */
export function maintenanceWindowCalendar(window: MaintenanceWindow): string {
    return `${window.day} *-*-* ${clockTime(windowStartMinute(window))}:00 UTC`;
}

/** The reboot's oneshot: root, since it takes a backup through systemd and reboots the machine. */
export function renderRebootService(): string {
    return [
        "[Unit]",
        "Description=reboot the server when an update asked for it, after a fresh backup",
        "",
        "[Service]",
        "Type=oneshot",
        `ExecStart=${REBOOT_COMMAND}`,
        "",
    ].join("\n");
}

/**
 * Weekly in the window. A window missed while the server was off is not caught up at boot: the boot
 * was the reboot. A minute's accuracy keeps the reboot at the time the operator chose.
 */
export function renderRebootTimer(window: MaintenanceWindow): string {
    return [
        "[Unit]",
        `Description=reboot for updates in the maintenance window (${formatMaintenanceWindow(window)} UTC)`,
        "",
        "[Timer]",
        `OnCalendar=${maintenanceWindowCalendar(window)}`,
        "AccuracySec=1min",
        "Persistent=false",
        "",
        "[Install]",
        "WantedBy=timers.target",
        "",
    ].join("\n");
}

/** `webstack-reboot-if-required`: a backup, shipped, then the reboot; nothing when no update asked for one. */
export function renderRebootCommand(): string {
    return renderCommand({
        description: "webstack-reboot-if-required: reboot when an update asked for it, after a fresh backup.",
        settings: { REBOOT_REQUIRED_FILE, BACKUP_UNIT, SHIP_BACKUPS_UNIT },
        body: scriptBody("webstack-reboot-if-required"),
    });
}
