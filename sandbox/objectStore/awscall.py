"""One AWS call with the credentials and settings given as JSON on stdin, for the sandbox and its
tests: endpoint, region, caBundle, service (boto3's name: s3, cloudwatch, secretsmanager, iam),
credentials {accessKeyId, secretAccessKey, sessionToken?}, operation (boto3's name, for example
put_object) and parameters. Prints {"result": ...} or {"error": {"code", "status"}}; the exit code
is 0 either way, since a refusal is an answer. An object's Body goes as text, or exactly as
BodyBase64 in the parameters; it comes back as text (undecodable bytes replaced) and as
BodyBase64, exactly."""
import base64
import json
import sys

import boto3
import botocore.exceptions

request = json.load(sys.stdin)
credentials = request["credentials"]
client = boto3.client(
    request["service"],
    endpoint_url=request["endpoint"],
    region_name=request["region"],
    verify=request["caBundle"],
    aws_access_key_id=credentials["accessKeyId"],
    aws_secret_access_key=credentials["secretAccessKey"],
    aws_session_token=credentials.get("sessionToken"),
)
parameters = dict(request.get("parameters", {}))
if "Body" in parameters:
    parameters["Body"] = parameters["Body"].encode()
if "BodyBase64" in parameters:
    parameters["Body"] = base64.b64decode(parameters.pop("BodyBase64"))
try:
    result = getattr(client, request["operation"])(**parameters)
    if "Body" in result:
        body = result["Body"].read()
        result["Body"] = body.decode(errors="replace")
        result["BodyBase64"] = base64.b64encode(body).decode()
    result.pop("ResponseMetadata", None)
    json.dump({"result": result}, sys.stdout, default=str)
except botocore.exceptions.ClientError as error:
    json.dump(
        {"error": {"code": error.response["Error"]["Code"], "status": error.response["ResponseMetadata"]["HTTPStatusCode"]}},
        sys.stdout,
    )
