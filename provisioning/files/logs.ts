import { ACCESS_LOG_MAX_MIB, ACCESS_LOGS_KEPT, LOG_ROTATION_CHECK_MINUTES } from "../capacity";
import { ACCESS_LOG_FILE } from "../layout";

/** The access log's rotation and logrotate's timer: the log is bounded by size, not only by day. */

/**
 * logrotate's rules for the access log: daily, or earlier once over {@link ACCESS_LOG_MAX_MIB};
 * the old ones compressed at once, the newest {@link ACCESS_LOGS_KEPT} kept. nginx reopens its log
 * on USR1 (writing out its buffer first).
 */
export function renderAccessLogRotation(): string {
    return [
        "# Managed by webstack.",
        `${ACCESS_LOG_FILE} {`,
        "    daily",
        `    maxsize ${ACCESS_LOG_MAX_MIB}M`,
        `    rotate ${ACCESS_LOGS_KEPT}`,
        "    missingok",
        "    notifempty",
        "    compress",
        "    create 0640 root adm",
        "    sharedscripts",
        "    postrotate",
        '        [ ! -f /run/nginx.pid ] || kill -USR1 "$(cat /run/nginx.pid)"',
        "    endscript",
        "}",
        "",
    ].join("\n");
}

/** A drop-in for Debian's logrotate.timer: every few minutes instead of daily, so that a size limit takes effect in time. */
export function renderLogrotateTimer(): string {
    return [
        "# Managed by webstack.",
        "[Timer]",
        "OnCalendar=",
        `OnCalendar=*:0/${LOG_ROTATION_CHECK_MINUTES}`,
        "AccuracySec=1min",
        "",
    ].join("\n");
}
