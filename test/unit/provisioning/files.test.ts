import { expect } from "chai";
import { APP_UNIT_TEMPLATE, appInstanceUnit } from "../../../provisioning/layout";
import { shellQuote } from "../../../provisioning/script";
import { runBash } from "../../support/shell";
import { renderAutoUpgrades } from "../../../provisioning/files/apt";
import { APP_DATABASE_PRIVILEGES, renderMariadbConfig } from "../../../provisioning/files/mariadb";
import {
    renderAppUnit,
    renderBackupService,
    renderBackupTimer,
    renderReportMetricsService,
    renderReportMetricsTimer,
    renderShipBackupsService,
    renderShipBackupsTimer,
    renderVerifyBackupsService,
    renderVerifyBackupsTimer,
    UNIT_HARDENING,
} from "../../../provisioning/files/systemd";
import { renderBackupBucketSettings } from "../../../provisioning/files/backupBucket";
import { PLATFORM_ENVIRONMENT_NAMES, renderAppEnvironment } from "../../../provisioning/files/appEnvironment";
import { renderAccessLogRotation, renderLogrotateTimer } from "../../../provisioning/files/logs";

describe("renderAppUnit", () => {
    const unit = renderAppUnit();

    it("runs the current release's server.js as the webstack user on 127.0.0.1 and the instance's port, and on the instance's unix socket", () => {
        expect(unit).to.contain(
            "ExecStart=/usr/bin/node --require /usr/local/lib/webstack/watchdog.cjs --require /usr/local/lib/webstack/unix-socket.cjs /opt/webstack/current/server.js\n",
        );
        expect(unit).to.contain("User=webstack\n");
        expect(unit).to.contain(
            "Environment=NODE_ENV=production HOST=127.0.0.1 PORT=%i WEBSTACK_APP_SOCKET=/run/webstack-app/%i.sock DB_POOL_SIZE=8 DB_QUEUE_LIMIT=128 NODE_OPTIONS=--max-old-space-size=128\n",
        );
        expect(unit).to.contain("Restart=always\n");
        expect(unit).to.contain("WantedBy=multi-user.target\n");
    });

    it("keeps the instances' shared socket directory while one of them stops, open for nginx to reach the sockets", () => {
        expect(unit).to.contain("\nRuntimeDirectory=webstack-app\nRuntimeDirectoryMode=0755\nRuntimeDirectoryPreserve=yes\n");
    });

    it("stops after nginx when the server shuts down: new connections are refused first, and the requests nginx holds still reach their instance", () => {
        expect(unit).to.contain("\nBefore=nginx.service\n");
        expect(unit).not.to.match(/^After=.*nginx/m);
    });

    it("is killed and restarted when its event loop stops feeding the watchdog", () => {
        expect(unit).to.contain("\nNotifyAccess=all\nWatchdogSec=5\nWatchdogSignal=SIGKILL\n");
        expect(unit).to.contain("\nRestartSec=1\n");
        expect(unit).to.contain("\nLimitNOFILE=4096\n");
    });

    it("reads the secrets and the release id from files, never from its own text", () => {
        expect(unit).to.contain("EnvironmentFile=/etc/webstack/app.env\n");
        expect(unit).to.contain("EnvironmentFile=/opt/webstack/current/release.env\n");
        expect(unit).not.to.match(/PASSWORD/i);
    });

    it("filters system calls without killing node for one outside the filter, and leaves V8's JIT its writable code", () => {
        expect(unit).to.contain("\nSystemCallFilter=@system-service\n");
        // Without it a call outside the filter kills node (SIGSYS) when libuv probes io_uring.
        expect(unit).to.contain("\nSystemCallErrorNumber=EPERM\n");
        expect(unit).not.to.contain("MemoryDenyWriteExecute");
    });
});

describe("renderAppEnvironment", () => {
    it("writes one double-quoted line per variable, sorted, with systemd's escapes for \\, \", $ and `", () => {
        expect(renderAppEnvironment({ Z_LAST: "plain", API_TOKEN: "a \"b\" $HOME `x` \\ 'c'" })).to.equal(
            [
                "# Managed by webstack: the app's own environment.",
                'API_TOKEN="a \\"b\\" \\$HOME \\`x\\` \\\\ \'c\'"',
                'Z_LAST="plain"',
                "",
            ].join("\n"),
        );
    });

    it("writes a comment alone for no variables", () => {
        expect(renderAppEnvironment({})).to.equal("# Managed by webstack: the app's own environment.\n");
    });

    it("refuses a line break in a value, naming the variable and not the value", () => {
        expect(() => renderAppEnvironment({ CERT: "line one\nline two" }))
            .to.throw(/appEnvironment: CERT's value holds a line break/)
            .with.property("message")
            .that.does.not.contain("line one");
    });

    it("reserves every variable the unit sets itself", () => {
        const unitEnvironment = /^Environment=(.*)$/m.exec(renderAppUnit())?.[1] ?? "";
        const unitNames = unitEnvironment.split(" ").map((assignment) => assignment.split("=")[0]);
        expect(PLATFORM_ENVIRONMENT_NAMES).to.include.members([
            ...unitNames,
            "DB_SOCKET",
            "DB_NAME",
            "DB_USER",
            "DB_PASSWORD",
            "RELEASE_ID",
        ]);
    });
});

describe("renderAccessLogRotation and renderLogrotateTimer", () => {
    it("rotates the access log daily or once over 100 MiB, keeps seven compressed, and has nginx reopen it", () => {
        const rotation = renderAccessLogRotation();
        expect(rotation).to.contain("/var/log/webstack/access.log {\n");
        for (const line of ["daily", "maxsize 100M", "rotate 7", "compress", "create 0640 root adm"]) {
            expect(rotation).to.contain(`    ${line}\n`);
        }
        expect(rotation).not.to.contain("delaycompress");
        expect(rotation).to.contain('kill -USR1 "$(cat /run/nginx.pid)"');
    });

    it("replaces logrotate's daily run by one every five minutes, so that the size limit acts in time", () => {
        expect(renderLogrotateTimer()).to.contain("[Timer]\nOnCalendar=\nOnCalendar=*:0/5\n");
    });
});

describe("renderBackupService and renderBackupTimer", () => {
    it("runs the backup command once, sandboxed, writing only the backup directory", () => {
        const service = renderBackupService();
        expect(service).to.contain("Type=oneshot\nExecStart=/usr/local/sbin/webstack-backup\nReadWritePaths=/var/backups/webstack\n");
        expect(service).to.contain(UNIT_HARDENING.join("\n"));
    });

    it("fires nightly and catches up after downtime", () => {
        const timer = renderBackupTimer();
        expect(timer).to.match(/^OnCalendar=\*-\*-\* 0\d:\d\d:00$/m);
        expect(timer).to.contain("Persistent=true\n");
        expect(timer).to.contain("WantedBy=timers.target\n");
    });
});

describe("renderShipBackupsService and renderShipBackupsTimer", () => {
    it("ships once after MariaDB is up, sandboxed, writing only its state", () => {
        const service = renderShipBackupsService();
        expect(service).to.contain("Requires=mariadb.service\n");
        expect(service).to.contain(
            "Type=oneshot\nExecStart=/usr/local/sbin/webstack-ship-backups\nReadWritePaths=/var/lib/webstack/backups\n",
        );
        expect(service).to.contain(UNIT_HARDENING.join("\n"));
        expect(service).to.contain("\nCapabilityBoundingSet=CAP_DAC_READ_SEARCH\n");
    });

    it("fires every half minute, so that no write stays only on the server for a minute", () => {
        expect(renderShipBackupsTimer()).to.contain("OnCalendar=*-*-* *:*:00/30\nAccuracySec=1s\n");
    });
});

describe("renderVerifyBackupsService and renderVerifyBackupsTimer", () => {
    it("proves the bucket's backup once after MariaDB is up, sandboxed, writing only the backups' state", () => {
        const service = renderVerifyBackupsService();
        expect(service).to.contain("Requires=mariadb.service\n");
        expect(service).to.contain(
            "Type=oneshot\nExecStart=/usr/local/sbin/webstack-restore --verify\nReadWritePaths=/var/lib/webstack/backups\n",
        );
        expect(service).to.contain(UNIT_HARDENING.join("\n"));
    });

    it("fires nightly after the nightly dump, and catches up after downtime", () => {
        const hourOf = (timer: string) => Number(/^OnCalendar=\*-\*-\* (\d\d):/m.exec(timer)?.[1]);
        expect(hourOf(renderVerifyBackupsTimer())).to.equal(hourOf(renderBackupTimer()) + 1);
        expect(renderVerifyBackupsTimer()).to.contain("Persistent=true\n");
    });
});

describe("renderReportMetricsService and renderReportMetricsTimer", () => {
    it("reports without waiting for MariaDB, which may be what is down, sandboxed", () => {
        const service = renderReportMetricsService();
        expect(service).to.not.contain("mariadb");
        expect(service).to.contain("Type=oneshot\nExecStart=/usr/local/sbin/webstack-report-metrics\n");
        expect(service).to.contain(UNIT_HARDENING.join("\n"));
    });

    it("fires every minute", () => {
        expect(renderReportMetricsTimer()).to.contain("[Timer]\nOnCalendar=minutely\n");
    });
});

describe("renderBackupBucketSettings", () => {
    it("names the bucket, the server's prefix and the region", () => {
        expect(renderBackupBucketSettings({ bucket: "webstack-backups-1a2b3c", prefix: "dev-webstack", region: "eu-central-1" })).to.equal(
            "BACKUP_BUCKET=webstack-backups-1a2b3c\nBACKUP_PREFIX=dev-webstack\nAWS_REGION=eu-central-1\n",
        );
    });

    it("sets no bucket when there is none, so that the backups stay on the server", () => {
        expect(renderBackupBucketSettings(null)).to.match(/\nBACKUP_BUCKET=\n$/);
    });

    it("refuses a bucket, prefix or region a script could not put in a URL as it is, naming the field", () => {
        const good = { bucket: "webstack-backups", prefix: "dev-webstack", region: "eu-central-1" };
        expect(() => renderBackupBucketSettings({ ...good, bucket: "Webstack_Backups" })).to.throw(
            /backupBucket.bucket "Webstack_Backups" is not an S3 bucket name/,
        );
        expect(() => renderBackupBucketSettings({ ...good, prefix: "/dev webstack/" })).to.throw(
            /backupBucket.prefix "\/dev webstack\/" must be/,
        );
        expect(() => renderBackupBucketSettings({ ...good, region: "Frankfurt" })).to.throw(
            /backupBucket.region "Frankfurt" is not an AWS region/,
        );
    });
});

describe("renderMariadbConfig", () => {
    it("binds to loopback only in the [mysqld] section", () => {
        expect(renderMariadbConfig()).to.match(/^\[mysqld\]\nbind-address = 127\.0\.0\.1$/m);
    });

    it("keeps row-based binary logs, synced at every commit, for three days", () => {
        const config = renderMariadbConfig();
        expect(config).to.contain("log_bin = webstack-bin\nbinlog_format = ROW\nsync_binlog = 1\n");
        expect(config).to.contain("binlog_expire_logs_seconds = 259200\n");
    });

    it("grants the app user data and schema changes, but no DROP, GRANT or FILE", () => {
        expect(APP_DATABASE_PRIVILEGES).to.include.members(["SELECT", "INSERT", "UPDATE", "DELETE", "CREATE", "ALTER", "INDEX"]);
        expect(APP_DATABASE_PRIVILEGES).not.to.include.any.members(["DROP", "GRANT OPTION", "FILE", "ALL PRIVILEGES"]);
        expect([...APP_DATABASE_PRIVILEGES]).to.deep.equal([...APP_DATABASE_PRIVILEGES].sort());
    });
});

describe("renderAutoUpgrades", () => {
    it("refreshes the package lists and installs updates unattended every day", () => {
        expect(renderAutoUpgrades()).to.equal('APT::Periodic::Update-Package-Lists "1";\nAPT::Periodic::Unattended-Upgrade "1";\n');
    });
});

describe("app instance unit names", () => {
    it("are spelled the same by the scripts (the template with the port after @) and by layout.ts", () => {
        const fromBash = runBash(`template=${shellQuote(APP_UNIT_TEMPLATE)}; port=3001; printf '%s' "\${template/@/@$port}"`).stdout;
        expect(fromBash).to.equal(appInstanceUnit(3001));
    });
});
