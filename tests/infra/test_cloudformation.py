"""The AWS deployment as code (infra/cloudformation/): linted, IAM kept narrow, deployed to moto.

moto 5.2's CloudFormation creates S3 buckets (applying only their encryption and tags),
Kinesis streams, IAM roles and managed policies. It skips, with a warning and still
CREATE_COMPLETE, the types in ``MOTO_SKIPS``: those are checked by cfn-lint and by the
template assertions below, not by a deployment. glue.yaml (only Glue types, all skipped),
redshift-serverless.yaml and mwaa.yaml (types moto lacks, and they need a VPC's subnets)
are not deployed at all. On the deployed resources the shop pipeline then runs with LAKE_URL
taken from the lake stack's output, and the Kinesis consumer reads the stack's stream.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from infra import iam_check
from ingestion.errors import PlatformError

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "infra" / "cloudformation"
CFN_LINT = Path(sys.executable).with_name("cfn-lint")
REGION = "eu-west-1"

# Resource types moto's CloudFormation accepts without creating anything.
MOTO_SKIPS = {
    "AWS::S3::BucketPolicy",
    "AWS::Athena::WorkGroup",
    "AWS::KinesisFirehose::DeliveryStream",
}
# Deployed in this order (the IAM stack names the buckets and stream of the others).
LAKE_BUCKET, RESULTS_BUCKET, DAGS_BUCKET, PREFIX, STREAM = "acme-lake", "acme-results", "acme-dags", "test", "clicks"
STACKS = {
    "lake": {"LakeBucketName": LAKE_BUCKET, "LakePrefix": PREFIX},
    "athena": {"ResultsBucketName": RESULTS_BUCKET},
    "streaming": {"LakeBucketName": LAKE_BUCKET, "LakePrefix": PREFIX, "StreamName": STREAM, "ShardCount": "2"},
    "iam": {
        "LakeBucketName": LAKE_BUCKET,
        "LakePrefix": PREFIX,
        "ResultsBucketName": RESULTS_BUCKET,
        "StreamName": STREAM,
        "RedshiftClusterId": "marketplace",
        "MwaaSourceBucketName": DAGS_BUCKET,
    },
}
# moto warns once per skipped resource; MOTO_SKIPS and the test on created resources say it.
pytestmark = pytest.mark.filterwarnings("ignore:Tried to parse .* not supported by moto:UserWarning")
NOT_DEPLOYED = {
    "glue.yaml": "only AWS::Glue types, which moto ignores",
    "redshift-serverless.yaml": "no moto support for AWS::RedshiftServerless, and it needs a VPC's subnets",
    "mwaa.yaml": "no moto support for AWS::MWAA::Environment, and it needs a VPC's subnets",
}


def templates() -> list[Path]:
    return sorted(TEMPLATES.glob("*.yaml"))


def test_every_template_is_deployed_here_or_says_why_not():
    assert {path.name for path in templates()} == {f"{name}.yaml" for name in STACKS} | set(NOT_DEPLOYED)


# --- cfn-lint ---------------------------------------------------------------------------------


def cfn_lint(*paths: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(CFN_LINT), *map(str, paths)], capture_output=True, text=True, timeout=300)


def test_cfn_lint_passes_on_every_template():
    result = cfn_lint(*templates())
    assert result.returncode == 0, result.stdout + result.stderr


def test_cfn_lint_fails_a_broken_template(tmp_path):
    """A typo'd property and a reference to a resource that does not exist."""
    lake = iam_check.load_template(TEMPLATES / "lake.yaml")
    lake["Resources"]["LakeBucket"]["Properties"]["VersioningConfig"] = {"Status": "Enabled"}
    lake["Outputs"]["Missing"] = {"Value": {"Fn::GetAtt": ["NoSuchBucket", "Arn"]}}
    planted = tmp_path / "broken.json"
    planted.write_text(json.dumps(lake))
    result = cfn_lint(planted)
    assert result.returncode != 0
    assert "VersioningConfig" in result.stdout
    assert "NoSuchBucket" in result.stdout


# --- IAM breadth ------------------------------------------------------------------------------


def test_no_template_has_an_over_broad_statement():
    assert iam_check.check(templates()) == []


def test_the_check_reads_every_role_of_the_templates():
    """Not vacuous: a '*' planted in each Allow statement of a template is reported, once per statement."""
    total = 0
    for path in templates():
        template = iam_check.load_template(path)
        documents = [
            (name, document)
            for name, resource in template["Resources"].items()
            for where, document in iam_check._documents(resource)
            if where != "AssumeRolePolicyDocument"
        ]
        for _, document in documents:
            for statement in iam_check._as_list(document["Statement"]):
                if statement["Effect"] == "Allow":
                    statement["Action"] = "*"
        allows = sum(
            statement["Effect"] == "Allow"
            for _, document in documents
            for statement in iam_check._as_list(document["Statement"])
        )
        reported = {line.split(": ")[0] for line in iam_check.findings(template)}
        assert len(reported) == allows
        total += allows
    assert total > 0


def _with_statement(statement: dict) -> dict:
    template = iam_check.load_template(TEMPLATES / "iam.yaml")
    policies = template["Resources"]["GlueJobRole"]["Properties"]["Policies"]
    policies[0]["PolicyDocument"]["Statement"].append({"Sid": "Planted", "Effect": "Allow", **statement})
    return template


OVER_BROAD = {
    "action-star": {"Action": "*", "Resource": "arn:aws:s3:::acme-lake/prod/raw/*"},
    "service-star": {"Action": "s3:*", "Resource": "arn:aws:s3:::acme-lake/prod/raw/*"},
    "resource-star": {"Action": ["s3:GetObject"], "Resource": "*"},
    "every-bucket": {"Action": "s3:GetObject", "Resource": {"Fn::Sub": "arn:${AWS::Partition}:s3:::*"}},
    "resourceless-mixed-with-scopable": {"Action": ["cloudwatch:PutMetricData", "kinesis:GetRecords"], "Resource": "*"},
    "not-action": {"NotAction": "iam:*", "Resource": "arn:aws:s3:::acme-lake/prod/raw/*"},
    "not-resource": {"Action": "s3:GetObject", "NotResource": "arn:aws:s3:::acme-lake/prod/raw/*"},
    "public-principal": {"Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::acme-lake/prod/raw/*"},
}


@pytest.mark.parametrize("statement", OVER_BROAD.values(), ids=OVER_BROAD.keys())
def test_an_over_broad_statement_is_reported(statement, tmp_path):
    found = iam_check.findings(_with_statement(statement))
    assert len(found) >= 1
    assert all(line.startswith("GlueJobRole Policies[clickstream-job] Planted: ") for line in found), found
    # ... and fails `make lint`'s command, naming the statement.
    planted = tmp_path / "planted.json"
    planted.write_text(json.dumps(_with_statement(statement)))
    result = subprocess.run(
        [sys.executable, "-m", "infra.iam_check", str(planted)], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 1
    assert "Planted" in result.stderr


def test_resource_star_is_allowed_only_for_actions_without_resource_types():
    statement = {"Action": sorted(iam_check.RESOURCELESS_ACTIONS)[:2], "Resource": "*"}
    assert iam_check.findings(_with_statement(statement)) == []


def test_a_trust_policy_anyone_may_assume_is_reported():
    template = iam_check.load_template(TEMPLATES / "iam.yaml")
    trust = template["Resources"]["IngestionRole"]["Properties"]["AssumeRolePolicyDocument"]
    trust["Statement"][0]["Principal"] = {"AWS": "*"}
    assert iam_check.findings(template) == [
        "IngestionRole AssumeRolePolicyDocument #0: any principal may assume the role"
    ]


def test_a_file_that_is_not_a_template_is_one_line_error(tmp_path):
    not_template = tmp_path / "settings.yaml"
    not_template.write_text("LAKE_URL: s3://acme-lake/prod\n")
    with pytest.raises(PlatformError, match=r"not a CloudFormation template"):
        iam_check.check([not_template])
    result = subprocess.run(
        [sys.executable, "-m", "infra.iam_check", str(not_template)], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 1
    assert result.stderr.startswith("error: ") and "Traceback" not in result.stderr


# --- what moto does not apply, on the templates -----------------------------------------------


def test_lake_bucket_is_versioned_private_tls_only_and_keeps_raw_and_processed():
    template = iam_check.load_template(TEMPLATES / "lake.yaml")
    bucket = template["Resources"]["LakeBucket"]["Properties"]
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    assert set(bucket["PublicAccessBlockConfiguration"].values()) == {True}
    assert len(bucket["PublicAccessBlockConfiguration"]) == 4
    expiring = [rule for rule in bucket["LifecycleConfiguration"]["Rules"] if "ExpirationInDays" in rule]
    # Only landing/ expires; a rule without a prefix would expire raw/ and processed/ too.
    assert [rule["Prefix"] for rule in expiring] == [{"Fn::Sub": "${LakePrefix}/landing/"}]
    deny = template["Resources"]["LakeBucketPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    assert [(s["Effect"], s["Condition"]) for s in deny] == [("Deny", {"Bool": {"aws:SecureTransport": "false"}})]


def test_firehose_lands_in_the_layout_the_processing_job_reads():
    from processing.clickstream import contract

    template = iam_check.load_template(TEMPLATES / "streaming.yaml")
    s3 = template["Resources"]["DeliveryStream"]["Properties"]["ExtendedS3DestinationConfiguration"]
    prefix = s3["Prefix"]["Fn::Sub"].replace("${LakePrefix}", "prod")
    assert s3["CompressionFormat"] == "GZIP"  # Firehose then names its objects *.gz
    landing = contract.paths("prod")["landing"]
    hour_folders = prefix.removeprefix(f"{landing}/").rstrip("/")
    assert hour_folders == "!{timestamp:yyyy/MM/dd/HH}"
    # yyyy/MM/dd/HH/<object>.gz: as many folder levels as the job's glob has before the file.
    assert hour_folders.count("/") + 2 == contract.LANDING_GLOB.count("/") + 1


def test_athena_workgroup_enforces_results_location_and_scan_limit():
    template = iam_check.load_template(TEMPLATES / "athena.yaml")
    config = template["Resources"]["WorkGroup"]["Properties"]["WorkGroupConfiguration"]
    assert config["EnforceWorkGroupConfiguration"] is True
    assert config["BytesScannedCutoffPerQuery"] == {"Ref": "BytesScannedCutoffPerQuery"}
    assert config["ResultConfiguration"]["OutputLocation"] == {"Fn::Sub": "s3://${ResultsBucket}/dbt/"}


# --- deployed to moto's server ----------------------------------------------------------------


@pytest.fixture(scope="module")
def deployed():
    """The four stacks moto can create, deployed in order; yields (boto3 session kwargs, outputs)."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    aws = {
        "endpoint_url": f"http://{host}:{port}",
        "region_name": REGION,
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
    }
    cloudformation = boto3.client("cloudformation", **aws)
    outputs = {}
    for name, parameters in STACKS.items():
        cloudformation.create_stack(
            StackName=f"marketplace-{name}",
            TemplateBody=(TEMPLATES / f"{name}.yaml").read_text(),
            Parameters=[{"ParameterKey": key, "ParameterValue": value} for key, value in parameters.items()],
            Capabilities=["CAPABILITY_IAM"],
        )
        cloudformation.get_waiter("stack_create_complete").wait(
            StackName=f"marketplace-{name}", WaiterConfig={"Delay": 1, "MaxAttempts": 60}
        )
        stack = cloudformation.describe_stacks(StackName=f"marketplace-{name}")["Stacks"][0]
        outputs[name] = {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}
    yield aws, outputs
    server.stop()


@pytest.mark.parametrize("name", STACKS)
def test_moto_creates_every_resource_it_supports(deployed, name):
    aws, _ = deployed
    template = iam_check.load_template(TEMPLATES / f"{name}.yaml")
    expected = {logical for logical, resource in template["Resources"].items() if resource["Type"] not in MOTO_SKIPS}
    listed = boto3.client("cloudformation", **aws).describe_stack_resources(StackName=f"marketplace-{name}")
    created = {resource.get("LogicalResourceId") for resource in listed["StackResources"]} - {None}
    assert created == expected


def test_outputs_are_the_platform_settings(deployed):
    _, outputs = deployed
    assert outputs["lake"]["LakeUrl"] == f"s3://{LAKE_BUCKET}/{PREFIX}"  # LAKE_URL
    assert outputs["streaming"]["ClickstreamStreamName"] == STREAM  # CLICKSTREAM_STREAM
    # The Athena settings come from resources moto skips: only the results bucket's is here.
    assert outputs["athena"]["ResultsBucketName"] == RESULTS_BUCKET


def test_lake_and_results_buckets_exist_encrypted(deployed):
    aws, _ = deployed
    s3 = boto3.client("s3", **aws)
    rules = {
        bucket: s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
        for bucket in (LAKE_BUCKET, RESULTS_BUCKET)
    }
    assert rules[LAKE_BUCKET][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert rules[RESULTS_BUCKET][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"


def test_clickstream_stream_exists_with_its_shards_and_retention(deployed):
    aws, _ = deployed
    summary = boto3.client("kinesis", **aws).describe_stream_summary(StreamName=STREAM)["StreamDescriptionSummary"]
    assert summary["OpenShardCount"] == int(STACKS["streaming"]["ShardCount"])
    template = iam_check.load_template(TEMPLATES / "streaming.yaml")
    assert summary["RetentionPeriodHours"] == template["Parameters"]["RetentionPeriodHours"]["Default"]


def _deployed_roles(aws: dict) -> dict[str, dict]:
    """Logical role name -> its trust policy and every policy document attached to it."""
    iam = boto3.client("iam", **aws)
    roles = {}
    for role in iam.list_roles()["Roles"]:
        name = role["RoleName"]
        documents = [
            iam.get_role_policy(RoleName=name, PolicyName=policy)["PolicyDocument"]
            for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]
        ]
        for attached in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]:
            version = iam.get_policy(PolicyArn=attached["PolicyArn"])["Policy"]["DefaultVersionId"]
            document = iam.get_policy_version(PolicyArn=attached["PolicyArn"], VersionId=version)["PolicyVersion"]
            documents.append(document["Document"])
        # marketplace-<stack>-<LogicalId>-<suffix>
        roles[name.split("-")[2]] = {"trust": role["AssumeRolePolicyDocument"], "documents": documents}
    return roles


def _as_json(document) -> dict:
    """A policy document as boto3 returns it from moto: parsed, JSON text, or (the inline
    policies of a role made by CloudFormation) the text of a Python dict."""
    if not isinstance(document, str):
        return document
    try:
        return json.loads(document)
    except json.JSONDecodeError:
        return ast.literal_eval(document)


def test_roles_carry_their_policies_scoped_to_the_deployed_lake(deployed):
    aws, _ = deployed
    roles = _deployed_roles(aws)
    in_templates = {
        logical: resource
        for path in templates()
        for logical, resource in iam_check.load_template(path)["Resources"].items()
        if resource["Type"] == "AWS::IAM::Role" and path.stem in STACKS
    }
    assert set(roles) == set(in_templates)
    allowed_objects = (
        f"arn:aws:s3:::{LAKE_BUCKET}/{PREFIX}/",
        f"arn:aws:s3:::{LAKE_BUCKET}/code/clickstream/",
        f"arn:aws:s3:::{RESULTS_BUCKET}/",
        f"arn:aws:s3:::{DAGS_BUCKET}/",
    )
    for logical, role in roles.items():
        trust = _as_json(role["trust"])["Statement"][0]["Principal"]
        assert trust == in_templates[logical]["Properties"]["AssumeRolePolicyDocument"]["Statement"][0]["Principal"]
        statements = [s for document in role["documents"] for s in _as_json(document)["Statement"]]
        assert statements, f"{logical} has no permissions"
        # What was really deployed (parameters substituted) passes the breadth check too.
        deployed_template = {"Resources": {logical: {"Properties": {"PolicyDocument": {"Statement": statements}}}}}
        assert iam_check.findings(deployed_template) == []
        for statement in statements:
            for resource in iam_check._as_list(statement["Resource"]):
                if resource.startswith("arn:aws:s3:::") and "/" in resource:
                    assert resource.startswith(allowed_objects), (logical, resource)


def test_glue_job_role_writes_only_the_clickstream_outputs(deployed):
    from processing.clickstream import contract

    aws, outputs = deployed
    role = _deployed_roles(aws)["GlueJobRole"]
    writes = {
        resource
        for document in role["documents"]
        for statement in _as_json(document)["Statement"]
        if "s3:PutObject" in iam_check._as_list(statement["Action"])
        for resource in iam_check._as_list(statement["Resource"])
    }
    lake_url = outputs["lake"]["LakeUrl"]
    paths = contract.paths(lake_url)
    expected = {paths[zone].replace("s3://", "arn:aws:s3:::") + "/*" for zone in ("processed", "quarantine", "audit")}
    assert writes == expected


def test_shop_pipeline_lands_raw_parquet_in_the_deployed_lake(deployed, tmp_path):
    """LAKE_URL from the lake stack's output: the shop pipeline on S3, every source row landed."""
    import io
    import sqlite3
    from datetime import date

    import pyarrow.parquet as pq

    from ingestion.pipelines.shop import pipeline
    from ingestion.settings import load_settings
    from simulator import shop
    from simulator.context import SimContext

    aws, outputs = deployed
    settings = load_settings(
        {
            "DATA_DIR": str(tmp_path),
            "SF": "0.01",
            "LAKE_URL": outputs["lake"]["LakeUrl"],
            "AWS_ENDPOINT_URL": aws["endpoint_url"],
            "AWS_ACCESS_KEY_ID": aws["aws_access_key_id"],
            "AWS_SECRET_ACCESS_KEY": aws["aws_secret_access_key"],
            "AWS_REGION": REGION,
        }
    )
    shop.init(SimContext(settings), date(1998, 1, 3))
    result = pipeline.run(settings, progress=None)
    assert result["destination"] == f"s3://{LAKE_BUCKET}/{PREFIX}/raw/shop"

    with sqlite3.connect(settings.shop_db_url.removeprefix("sqlite:///")) as shop_db:
        count = "select count(*) from {}"
        source_rows = {table: shop_db.execute(count.format(table)).fetchone()[0] for table in result["rows"]}
    s3 = boto3.client("s3", **aws)
    landed = {}
    for table in result["rows"]:
        listing = s3.list_objects_v2(Bucket=LAKE_BUCKET, Prefix=f"{PREFIX}/raw/shop/{table}/")["Contents"]
        keys = [item["Key"] for item in listing if item["Key"].endswith(".parquet")]
        landed[table] = sum(
            pq.read_table(io.BytesIO(s3.get_object(Bucket=LAKE_BUCKET, Key=key)["Body"].read())).num_rows
            for key in keys
        )
    assert landed == source_rows == result["rows"]
    assert min(landed.values()) > 0
    # The pipeline asks for no encryption: the bucket's default from the template applies.
    assert s3.head_object(Bucket=LAKE_BUCKET, Key=keys[0])["ServerSideEncryption"] == "aws:kms"


def test_clickstream_consumer_lands_the_deployed_stream_in_the_deployed_lake(deployed, tmp_path, monkeypatch):
    """CLICKSTREAM_DELIVERY=kinesis on the stack's stream: every put record lands once,
    as gzip JSON lines in the YYYY/MM/DD/HH/ layout the processing job reads."""
    import gzip
    from collections import Counter

    from ingestion.pipelines.clickstream import pipeline
    from ingestion.settings import load_settings
    from processing.clickstream import contract

    aws, outputs = deployed
    env = {
        "AWS_ENDPOINT_URL": aws["endpoint_url"],
        "AWS_ACCESS_KEY_ID": aws["aws_access_key_id"],
        "AWS_SECRET_ACCESS_KEY": aws["aws_secret_access_key"],
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
    }
    for key, value in env.items():  # boto3 and s3fs read the credentials from the environment
        monkeypatch.setenv(key, value)
    stream = outputs["streaming"]["ClickstreamStreamName"]
    settings = load_settings(
        {
            **env,
            "DATA_DIR": str(tmp_path),
            "LAKE_URL": outputs["lake"]["LakeUrl"],
            "CLICKSTREAM_DELIVERY": "kinesis",
            "CLICKSTREAM_STREAM": stream,
        }
    )
    kinesis = boto3.client("kinesis", **aws)
    events = [json.dumps({"event_id": f"e{number}", "session_id": f"s{number % 7}"}) for number in range(50)]
    for event in events:
        kinesis.put_record(StreamName=stream, Data=event.encode(), PartitionKey=json.loads(event)["session_id"])

    result = pipeline.run(settings, batch_records=20)
    assert result["rows"] == {"events": len(events)}

    s3 = boto3.client("s3", **aws)
    landing = contract.paths(settings.lake_url)["landing"].removeprefix(f"s3://{LAKE_BUCKET}/")
    keys = [
        item["Key"]
        for item in s3.list_objects_v2(Bucket=LAKE_BUCKET, Prefix=f"{landing}/")["Contents"]
        if "/_checkpoints/" not in item["Key"]
    ]
    relative = [key.removeprefix(f"{landing}/") for key in keys]
    # The contract's YYYY/MM/DD/HH/<name>.gz (its glob's '*' would also match across folders).
    assert relative and all(re.fullmatch(r"\d{4}/\d{2}/\d{2}/\d{2}/[^/]+\.gz", path) for path in relative), relative
    assert all(contract.relative_source(key) == path for key, path in zip(keys, relative, strict=True))
    lines = Counter(
        line
        for key in keys
        for line in gzip.decompress(s3.get_object(Bucket=LAKE_BUCKET, Key=key)["Body"].read()).decode().splitlines()
    )
    assert lines == Counter(events)
    assert pipeline.run(settings)["rows"] == {"events": 0}
