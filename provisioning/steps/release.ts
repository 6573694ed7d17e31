import { MIGRATION_SETTINGS } from "../files/systemd";
import { ACTIVATE_COMMAND, CURRENT_LINK, PREVIOUS_LINK, RELEASE_ENV_NAME, RELEASES_DIR, RELEASES_KEPT } from "../layout";
import { PlanStep, UPLOAD_DIR, UploadStep } from "../plan";
import { runStep, scriptBody } from "../script";
import type { Release } from "../../release/release";

const UPLOAD_PREFIX = "release-";
const UPLOAD_SUFFIX = ".tar.gz";

/** Where a release's artifact lands on the server: one file per release id. */
function releaseUploadPath(releaseId: string): string {
    return `${UPLOAD_DIR}/${UPLOAD_PREFIX}${releaseId}${UPLOAD_SUFFIX}`;
}

/** Uploads the artifact, then deploys it: unpack, migrate, switch, rolling restart, clean up. */
export function releaseSteps(release: Release): PlanStep[] {
    const artifact = releaseUploadPath(release.id);
    const upload: UploadStep = { kind: "upload", name: "upload-release", localPath: release.artifactPath, remotePath: artifact };
    const deploy = runStep("deploy", {
        description: `Deploy release ${release.id}.`,
        settings: {
            RELEASE_ID: release.id,
            ARTIFACT: artifact,
            ARTIFACT_PATTERN: `${UPLOAD_PREFIX}*${UPLOAD_SUFFIX}`,
            UPLOAD_DIR,
            RELEASES_DIR,
            RELEASE_ENV_NAME,
            RELEASES_KEPT,
            CURRENT_LINK,
            PREVIOUS_LINK,
            ACTIVATE_COMMAND,
            ...MIGRATION_SETTINGS,
        },
        body: scriptBody("deploy"),
    });
    return [upload, deploy];
}
