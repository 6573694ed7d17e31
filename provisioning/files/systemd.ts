import { APP_ENV_FILE, APP_USER, BACKUP_COMMAND, BACKUP_DIR, CURRENT_LINK, RELEASE_ENV_NAME } from "../layout";

/** systemd units: the app's instance template and the nightly backup. */

/**
 * What a network service that needs no privileges may do: nothing outside its own process, no
 * writes outside the paths a unit names, loopback and unix sockets only through the address families.
 * MemoryDenyWriteExecute is left out: V8's JIT needs writable executable memory.
 */
export const SANDBOXING = [
    "NoNewPrivileges=yes",
    "ProtectSystem=strict",
    "ProtectHome=yes",
    "PrivateTmp=yes",
    "PrivateDevices=yes",
    "ProtectKernelTunables=yes",
    "ProtectKernelModules=yes",
    "ProtectKernelLogs=yes",
    "ProtectControlGroups=yes",
    "ProtectClock=yes",
    "ProtectHostname=yes",
    "RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6",
    "RestrictNamespaces=yes",
    "RestrictRealtime=yes",
    "RestrictSUIDSGID=yes",
    "LockPersonality=yes",
    "SystemCallArchitectures=native",
    "SystemCallFilter=@system-service",
    // A call outside the filter fails with EPERM instead of killing the process: Node's libuv probes
    // io_uring at start and falls back when it is refused.
    "SystemCallErrorNumber=EPERM",
    "CapabilityBoundingSet=",
    "UMask=0077",
] as const;

/**
 * The app instance template: `webstack-app@3001.service` listens on 127.0.0.1:3001. Everything is
 * read through the `current` symlink when an instance starts, so a restart picks up the release
 * that `current` points to, with its own RELEASE_ID.
 */
export function renderAppUnit(): string {
    return [
        "[Unit]",
        "Description=webstack app instance on 127.0.0.1:%i",
        "After=network.target mariadb.service",
        "Wants=mariadb.service",
        "StartLimitIntervalSec=0",
        "",
        "[Service]",
        "Type=simple",
        `User=${APP_USER}`,
        `Group=${APP_USER}`,
        "Environment=NODE_ENV=production HOST=127.0.0.1 PORT=%i",
        `EnvironmentFile=${APP_ENV_FILE}`,
        `EnvironmentFile=${CURRENT_LINK}/${RELEASE_ENV_NAME}`,
        `WorkingDirectory=${CURRENT_LINK}`,
        `ExecStart=/usr/bin/node ${CURRENT_LINK}/server.js`,
        "Restart=always",
        "RestartSec=2",
        "TimeoutStopSec=20",
        ...SANDBOXING,
        "",
        "[Install]",
        "WantedBy=multi-user.target",
        "",
    ].join("\n");
}

/** The nightly dump, as root (MariaDB's root logs in through the unix socket), writing only its directory. */
export function renderBackupService(): string {
    return [
        "[Unit]",
        "Description=webstack database backup",
        "After=mariadb.service",
        "Requires=mariadb.service",
        "",
        "[Service]",
        "Type=oneshot",
        `ExecStart=${BACKUP_COMMAND}`,
        `ReadWritePaths=${BACKUP_DIR}`,
        ...SANDBOXING,
        "",
    ].join("\n");
}

/** Nightly, spread over half an hour; a night missed while the server was off runs at the next boot. */
export function renderBackupTimer(): string {
    return [
        "[Unit]",
        "Description=nightly webstack database backup",
        "",
        "[Timer]",
        "OnCalendar=*-*-* 03:15:00",
        "RandomizedDelaySec=30min",
        "Persistent=true",
        "",
        "[Install]",
        "WantedBy=timers.target",
        "",
    ].join("\n");
}
