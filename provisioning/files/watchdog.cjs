// Feeds systemd's watchdog from a Node.js app's event loop. The app's unit loads it before the app
// (node --require), so any app gets it without a line of its own, and so does every older release.
// When the event loop stops (a handler that never returns, a SIGSTOP), the pings stop, and systemd
// kills the instance and starts it again. Node cannot write to a unix datagram socket, so each ping
// goes through systemd-notify, which waits until systemd has read it (the unit has NotifyAccess=all).
"use strict";
const { execFile } = require("node:child_process");

// A third of WatchdogSec=, so that one late ping is no hang; undefined when systemd watches nothing
// here (no notify socket or watchdog, or the watchdog is meant for another process).
function pingIntervalMs(env, pid) {
    const usec = env.WATCHDOG_USEC || "";
    if (!env.NOTIFY_SOCKET || !/^[1-9]\d*$/.test(usec)) {
        return undefined;
    }
    if (env.WATCHDOG_PID !== undefined && env.WATCHDOG_PID !== String(pid)) {
        return undefined;
    }
    return Math.max(100, Math.floor(Number(usec) / 3000));
}

const intervalMs = pingIntervalMs(process.env, process.pid);
if (intervalMs !== undefined) {
    let pinging = false;
    setInterval(() => {
        if (pinging) {
            return;
        }
        pinging = true;
        execFile("systemd-notify", ["WATCHDOG=1"], { timeout: 5000 }, (error) => {
            pinging = false;
            if (error) {
                process.emitWarning(`systemd-notify WATCHDOG=1 failed: ${error.message}`);
            }
        });
        // Unreferenced: the pings never keep a finished app alive.
    }, intervalMs).unref();
}
