import {
    renderReplicaCommand,
    renderReplicationGrantCommand,
    renderReplicationSshd,
    renderReplicationSudoers,
    renderWritesCommand,
    REPLICATION_ACCOUNT,
    REPLICATION_SSHD_DROP_IN,
    REPLICATION_SUDOERS_FILE,
} from "../files/replication";
import { REPLICA_COMMAND, REPLICATION_GRANT_COMMAND, WRITES_COMMAND } from "../layout";
import { RunStep } from "../plan";
import { runStep, scriptBody } from "../script";

/** What moving the site to a replacement server needs on every server: the commands of both sides, and the tunnel's account. */
export function replicationStep(): RunStep {
    return runStep("replication", {
        description: "Install what moves the site to a replacement server without losing a write.",
        settings: {
            REPLICA_COMMAND,
            REPLICA_SCRIPT: renderReplicaCommand(),
            WRITES_COMMAND,
            WRITES_SCRIPT: renderWritesCommand(),
            REPLICATION_GRANT_COMMAND,
            REPLICATION_GRANT_SCRIPT: renderReplicationGrantCommand(),
            REPLICATION_ACCOUNT,
            REPLICATION_SUDOERS_FILE,
            REPLICATION_SUDOERS: renderReplicationSudoers(),
            REPLICATION_SSHD_DROP_IN,
            REPLICATION_SSHD: renderReplicationSshd(),
        },
        body: scriptBody("replication"),
    });
}
