import { renderBackupCommand, renderRestoreCommand } from "../files/commands";
import { renderBackupService, renderBackupTimer } from "../files/systemd";
import { BACKUP_COMMAND, BACKUP_DIR, BACKUP_TIMER, BACKUP_UNIT, RESTORE_COMMAND } from "../layout";
import { RunStep } from "../plan";
import { runStep, scriptBody } from "../script";

/** Nightly dumps of the app's database on the server itself (the one server is the weak point), and the command that restores one. */
export function backupsStep(): RunStep {
    return runStep("backups", {
        description: "Back up the app's database every night.",
        settings: {
            BACKUP_DIR,
            BACKUP_COMMAND,
            BACKUP_SCRIPT: renderBackupCommand(),
            RESTORE_COMMAND,
            RESTORE_SCRIPT: renderRestoreCommand(),
            BACKUP_UNIT,
            BACKUP_SERVICE: renderBackupService(),
            BACKUP_TIMER,
            BACKUP_TIMER_UNIT: renderBackupTimer(),
        },
        body: scriptBody("backups"),
    });
}
