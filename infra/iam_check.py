"""Over-broad IAM in the CloudFormation templates: the check `make lint` and the tests run.

cfn-lint validates a template's shape, not its breadth: a role allowed ``"Action": "*"``
on ``"Resource": "*"`` passes it. This check reads every policy document in a template
(inline role policies, managed policies, bucket policies, trust policies) and reports,
for each statement that allows something:

- ``NotAction`` or ``NotResource`` (they allow everything not listed);
- an action of ``*`` or ``<service>:*``;
- a resource of ``*``, or an ARN whose resource part is only ``*`` (every bucket,
  stream, table of the account), unless every action of the statement is one of
  ``RESOURCELESS_ACTIONS``: actions that cannot be scoped to a resource;
- a principal of ``*`` (a trust policy anyone may assume, a public bucket policy).

    python -m infra.iam_check infra/cloudformation/*.yaml
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path

import yaml

from ingestion.errors import PlatformError

# Action -> why it may name Resource "*". Keep it short: each entry is a deliberate exception.
RESOURCELESS_ACTIONS = {
    "cloudwatch:PutMetricData": "no resource types: metrics are scoped by namespace condition only",
    "s3:GetAccountPublicAccessBlock": "an account-level setting, no bucket or object resource",
    "s3:ListAllMyBuckets": "lists the account's buckets, no resource types",
    "logs:DescribeLogGroups": "MWAA's execution role lists the account's log groups (AWS's documented policy)",
    "kinesis:ListStreams": "lists the account's streams, no resource types",
    "athena:ListWorkGroups": "lists the account's workgroups, no resource types",
}

# An ARN whose resource part is a bare "*": arn:aws:s3:::*, arn:aws:kinesis:r:a:*.
_EVERYTHING_ARN = re.compile(r"^arn:[^:]*:[^:]*:[^:]*:[^:]*:\*$")
# ${AWS::Partition}, ${LakeBucketName}: a name, whose colons are not the ARN's.
_SUBSTITUTION = re.compile(r"\$\{[^}]*\}")


class _CfnLoader(yaml.SafeLoader):
    """YAML with CloudFormation's short forms (!Sub, !Ref, !GetAtt ...) as their long forms."""


def _intrinsic(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict:
    name = "Ref" if tag_suffix == "Ref" else f"Fn::{tag_suffix}"
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if tag_suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_CfnLoader.add_multi_constructor("!", _intrinsic)


def load_template(path: Path) -> dict:
    try:
        template = yaml.load(path.read_text(), Loader=_CfnLoader)  # a SafeLoader subclass
    except (OSError, yaml.YAMLError) as exc:
        raise PlatformError(f"cannot read template {path}: {exc}") from exc
    if not isinstance(template, dict) or not isinstance(template.get("Resources"), dict):
        raise PlatformError(f"{path} is not a CloudFormation template (no Resources)")
    return template


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def _text(value) -> str | None:
    """The literal text of a resource or action: a string, or the pattern of an Fn::Sub."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Sub" in value:
        sub = value["Fn::Sub"]
        return sub if isinstance(sub, str) else sub[0]
    return None  # Ref, GetAtt: one named resource of the template


def _documents(resource: dict) -> Iterator[tuple[str, dict]]:
    properties = resource.get("Properties") or {}
    if isinstance(properties.get("PolicyDocument"), dict):
        yield "PolicyDocument", properties["PolicyDocument"]
    for policy in properties.get("Policies") or []:
        if isinstance(policy, dict) and isinstance(policy.get("PolicyDocument"), dict):
            yield f"Policies[{policy.get('PolicyName')}]", policy["PolicyDocument"]
    if isinstance(properties.get("AssumeRolePolicyDocument"), dict):
        yield "AssumeRolePolicyDocument", properties["AssumeRolePolicyDocument"]


def _statement_findings(statement: dict, trust: bool) -> Iterator[str]:
    if statement.get("Effect") != "Allow":
        return
    principals = statement.get("Principal")
    values = [principals] if principals == "*" else []
    if isinstance(principals, dict):
        values = [p for v in principals.values() for p in _as_list(v)]
    if "*" in values:
        yield "any principal may assume the role" if trust else "allowed to any principal"
    if trust:
        return
    for key in ("NotAction", "NotResource"):
        if key in statement:
            yield f"{key} allows everything it does not list"
    actions = [_text(action) for action in _as_list(statement.get("Action", []))]
    for action in actions:
        if action == "*" or (action and action.endswith(":*")):
            yield f"action {action!r} grants a whole service"
    broad = [
        text
        for text in (_text(resource) for resource in _as_list(statement.get("Resource", [])))
        if text == "*" or (text and _EVERYTHING_ARN.match(_SUBSTITUTION.sub("x", text)))
    ]
    if broad and not all(action in RESOURCELESS_ACTIONS for action in actions):
        narrowable = sorted(str(action) for action in actions if action not in RESOURCELESS_ACTIONS)
        yield f"resource {broad[0]!r} for actions that can be scoped: {', '.join(narrowable)}"


def findings(template: dict) -> list[str]:
    """One line per over-broad statement: ``<resource> <document> <sid>: <why>``."""
    lines = []
    for name, resource in template["Resources"].items():
        for where, document in _documents(resource):
            for index, statement in enumerate(_as_list(document.get("Statement", []))):
                sid = statement.get("Sid", f"#{index}")
                trust = where == "AssumeRolePolicyDocument"
                lines.extend(f"{name} {where} {sid}: {why}" for why in _statement_findings(statement, trust))
    return lines


def check(paths: list[Path]) -> list[str]:
    return [f"{path}: {line}" for path in paths for line in findings(load_template(path))]


def main(argv: list[str] | None = None) -> int:
    paths = [Path(arg) for arg in (sys.argv[1:] if argv is None else argv)]
    if not paths:
        print("usage: python -m infra.iam_check TEMPLATE...", file=sys.stderr)
        return 2
    try:
        problems = check(paths)
    except PlatformError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for line in problems:
        print(line, file=sys.stderr)
    print(f"iam_check: {len(paths)} templates, {len(problems)} over-broad statements")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
