"""Seeds the sandbox's AWS (a moto server started with authentication off) and then turns
authentication on: an admin user, a versioned bucket, the secrets it is given in Secrets Manager,
and a role that only EC2 would assume on AWS, with no policy yet (the caller gives it the stack's,
which may name the secrets' ARNs). Prints the admin's keys, the role's temporary credentials and
the secrets' ARNs by name as JSON. Reads its settings as JSON on stdin: endpoint, region, caBundle,
bucket, roleName, secrets (name: string)."""
import json
import sys
import urllib.request
import ssl

import boto3

settings = json.load(sys.stdin)
endpoint, region = settings["endpoint"], settings["region"]
connection = dict(endpoint_url=endpoint, region_name=region, verify=settings["caBundle"])

# Before authentication is on, any key is taken: the admin is made with one.
iam = boto3.client("iam", aws_access_key_id="AKIASEEDSEEDSEEDSEED", aws_secret_access_key="seed", **connection)
iam.create_user(UserName="admin")
iam.put_user_policy(
    UserName="admin",
    PolicyName="admin",
    PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}),
)
key = iam.create_access_key(UserName="admin")["AccessKey"]
admin = dict(aws_access_key_id=key["AccessKeyId"], aws_secret_access_key=key["SecretAccessKey"], **connection)
admin_arn = iam.get_user(UserName="admin")["User"]["Arn"]

s3 = boto3.client("s3", **admin)
s3.create_bucket(Bucket=settings["bucket"], CreateBucketConfiguration={"LocationConstraint": region})
s3.put_bucket_versioning(Bucket=settings["bucket"], VersioningConfiguration={"Status": "Enabled"})
secretsmanager = boto3.client("secretsmanager", **admin)
secret_arns = {
    name: secretsmanager.create_secret(Name=name, SecretString=value)["ARN"] for name, value in settings["secrets"].items()
}
# moto compares a trust policy's principal as written, so it names the admin who stands in for EC2.
trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": admin_arn}, "Action": "sts:AssumeRole"}]}
role_arn = iam.create_role(RoleName=settings["roleName"], AssumeRolePolicyDocument=json.dumps(trust), MaxSessionDuration=43200)[
    "Role"
]["Arn"]

request = urllib.request.Request(
    f"{endpoint}/moto-api/reset-auth", data=b"0", method="POST", headers={"Content-Type": "text/plain"}
)
urllib.request.urlopen(request, context=ssl.create_default_context(cafile=settings["caBundle"])).read()

sts = boto3.client("sts", **admin)
credentials = sts.assume_role(RoleArn=role_arn, RoleSessionName="server", DurationSeconds=43200)["Credentials"]
json.dump(
    {
        "admin": {"accessKeyId": key["AccessKeyId"], "secretAccessKey": key["SecretAccessKey"]},
        "role": {
            "arn": role_arn,
            "accessKeyId": credentials["AccessKeyId"],
            "secretAccessKey": credentials["SecretAccessKey"],
            "sessionToken": credentials["SessionToken"],
            "expiration": credentials["Expiration"].isoformat(),
        },
        "secretArns": secret_arns,
    },
    sys.stdout,
)
