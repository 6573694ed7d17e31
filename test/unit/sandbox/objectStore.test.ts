import { expect } from "chai";
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
