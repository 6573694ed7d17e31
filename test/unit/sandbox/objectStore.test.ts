import { expect } from "chai";
import { appServerPolicy } from "../../../components/fleet/appServers";
import { backupWriterPolicy } from "../../../components/server/backups";
import { motoPolicy } from "../../../sandbox/objectStore/motoPolicy";
import { s3HostNames } from "../../../sandbox/objectStore/objectStore";

describe("motoPolicy", () => {
    const actionsOf = (policy: string) => (JSON.parse(policy) as { Statement: { Sid: string; Action: string[] }[] }).Statement;

    it("adds, beside each IAM action, the operations moto checks for it, and keeps the rest of the statement", () => {
        const policy = JSON.stringify({
            Version: "2012-10-17",
            Statement: [{ Sid: "Read", Effect: "Allow", Action: "s3:GetObject", Resource: "arn:aws:s3:::b/p/*" }],
        });
        expect(JSON.parse(motoPolicy(policy))).to.deep.equal({
            Version: "2012-10-17",
            Statement: [{ Sid: "Read", Effect: "Allow", Action: ["s3:GetObject", "s3:HeadObject"], Resource: "arn:aws:s3:::b/p/*" }],
        });
    });

    it("denies the server's role, in moto's names too, the batch delete and the lifecycle calls its policy denies", () => {
        const denied = actionsOf(motoPolicy(backupWriterPolicy("arn:aws:s3:::b", "stack-webstack"))).find(
            (statement) => statement.Sid === "NeverEraseBackups",
        ) as { Action: string[] };
        expect(denied.Action).to.include.members([
            "s3:DeleteObject",
            "s3:DeleteObjects",
            "s3:PutBucketLifecycleConfiguration",
            "s3:DeleteBucketLifecycle",
        ]);
        expect(denied.Action.filter((action) => action === "s3:DeleteObjects")).to.have.length(1);
    });

    it("refuses a statement with a condition, which moto would turn into a deny", () => {
        const policy = JSON.stringify({
            Statement: [{ Sid: "Listed", Effect: "Allow", Action: "s3:ListBucket", Condition: { StringLike: {} } }],
        });
        expect(() => motoPolicy(policy)).to.throw(/moto evaluates no policy conditions; statement "Listed" has one/);
    });

    it("lets the role report metrics under the name moto checks for PutMetricData", () => {
        const statements = (
            JSON.parse(motoPolicy(backupWriterPolicy("arn:aws:s3:::b", "stack-webstack"))) as {
                Statement: { Sid: string; Action: string[] }[];
            }
        ).Statement;
        expect(statements.find((statement) => statement.Sid === "ReportBackupHealth")?.Action).to.deep.equal([
            "cloudwatch:PutMetricData",
            "monitoring:PutMetricData",
        ]);
    });

    const secretArns = [
        "arn:aws:secretsmanager:eu-central-1:123456789012:secret:rds!db-x-AbCdEf",
        "arn:aws:secretsmanager:eu-central-1:123456789012:secret:app-GhIjKl",
    ];
    const statements = (
        JSON.parse(motoPolicy(appServerPolicy("arn:aws:s3:::plan", secretArns))) as {
            Statement: { Sid: string; Action: string[]; Resource: string | string[] }[];
        }
    ).Statement;
    const statement = (sid: string) => statements.find((candidate) => candidate.Sid === sid);

    it("lets the role read a plan object's version under the operations moto checks for a GET and a HEAD that name one", () => {
        expect(statement("ReadPlan")).to.deep.include({
            Action: ["s3:GetObjectVersion", "s3:GetObject", "s3:HeadObject"],
            Resource: "arn:aws:s3:::plan/plan/*",
        });
    });

    it("lets the role read secrets on any resource, since moto authorizes Secrets Manager's calls against none", () => {
        expect(statement("ReadDatabaseCredentials")).to.deep.include({ Action: ["secretsmanager:GetSecretValue"], Resource: "*" });
    });

    it("refuses a statement that mixes actions whose resources moto checks with actions whose it does not", () => {
        const policy = JSON.stringify({
            Statement: [{ Sid: "Mixed", Effect: "Allow", Action: ["s3:GetObject", "secretsmanager:GetSecretValue"], Resource: "arn:x" }],
        });
        expect(() => motoPolicy(policy)).to.throw(
            /moto checks the resources of some of statement "Mixed"'s actions and not of others; split it/,
        );
    });
});

describe("s3HostNames", () => {
    it("covers the regional and global endpoints, path style and each bucket's virtual host", () => {
        expect(s3HostNames("eu-central-1")).to.deep.equal([
            "s3.eu-central-1.amazonaws.com",
            "*.s3.eu-central-1.amazonaws.com",
            "s3.amazonaws.com",
            "*.s3.amazonaws.com",
        ]);
    });
});
