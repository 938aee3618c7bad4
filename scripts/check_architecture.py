"""The shape rules of ``layers/common/oph`` that a linter does not check (``make arch``).

1. Every AWS call and every DynamoDB expression lives in a store or adapter module (a module
   whose path contains ``store`` or ``adapters``) or in the platform's AWS package
   (``oph/platform/aws``). Anywhere else, importing ``boto3``/``botocore`` or the platform's
   AWS package, or writing a DynamoDB request key (``ConditionExpression``, ``TableName``…), is
   a violation.
2. No module over 400 lines, no function over 60 lines (complexity over 15 is ruff's C901).
3. No private helper (``_name``) imported from another module.

``--report`` prints the counts (for the closing notes) and exits 0; without it, any violation
exits 1 with one line per violation.
"""

from __future__ import annotations

import argparse
import ast
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "layers" / "common" / "oph"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60
DYNAMODB_KEYS = frozenset(
    {
        "ConditionExpression",
        "UpdateExpression",
        "KeyConditionExpression",
        "ProjectionExpression",
        "ExpressionAttributeValues",
        "ExpressionAttributeNames",
        "TransactItems",
        "RequestItems",
        "TableName",
    }
)
AWS_MODULES = ("boto3", "botocore", "oph.platform.aws", "oph.aws")


@dataclass
class Findings:
    aws_call_sites: list[str] = field(default_factory=list)
    api_calls: int = 0  # calls of a client's operation: aws.dynamodb().get_item(...)
    aws_modules: set[str] = field(default_factory=set)
    long_modules: list[str] = field(default_factory=list)
    long_functions: list[str] = field(default_factory=list)
    private_imports: list[str] = field(default_factory=list)

    def violations(self) -> list[str]:
        return [*self.aws_call_sites, *self.long_modules, *self.long_functions, *self.private_imports]


def is_store(path: Path) -> bool:
    rel = path.relative_to(PACKAGE).as_posix()
    return "store" in rel or "adapters" in rel or rel.startswith("platform/aws/")


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _aws_aliases(tree: ast.Module) -> set[str]:
    """Local names bound to an AWS module (``from oph import aws``, ``import boto3``…)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(AWS_MODULES):
                    names.add((alias.asname or alias.name).split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                full = f"{node.module}.{alias.name}"
                if full.startswith(AWS_MODULES) or node.module.startswith(AWS_MODULES):
                    names.add(alias.asname or alias.name)
    return names


def _root_name(node: ast.AST) -> str | None:
    while isinstance(node, ast.Attribute | ast.Call | ast.Subscript):
        node = node.func if isinstance(node, ast.Call) else node.value
    return node.id if isinstance(node, ast.Name) else None


def check_file(path: Path, findings: Findings) -> None:
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source, filename=str(path))
    rel = path.relative_to(ROOT).as_posix()
    lines = source.count("\n") + 1
    if lines > MAX_MODULE_LINES:
        findings.long_modules.append(f"{rel}: {lines} lines (max {MAX_MODULE_LINES})")
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            if length > MAX_FUNCTION_LINES:
                findings.long_functions.append(
                    f"{rel}:{node.lineno}: function {node.name} has {length} lines (max {MAX_FUNCTION_LINES})"
                )
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("oph"):
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    findings.private_imports.append(
                        f"{rel}:{node.lineno}: private {alias.name} imported from {node.module}"
                    )
    if is_store(path):
        return
    aliases = _aws_aliases(tree)
    for node in ast.walk(tree):
        where = f"{rel}:{getattr(node, 'lineno', 0)}"
        if isinstance(node, ast.Call) and _root_name(node.func) in aliases:
            findings.aws_call_sites.append(f"{where}: AWS call outside a store or adapter")
            if isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Call):
                findings.api_calls += 1
            findings.aws_modules.add(rel)
        elif isinstance(node, ast.Constant) and node.value in DYNAMODB_KEYS:
            findings.aws_call_sites.append(f"{where}: DynamoDB request key {node.value!r} outside a store")
            findings.aws_modules.add(rel)
        elif isinstance(node, ast.keyword) and node.arg in DYNAMODB_KEYS:
            findings.aws_call_sites.append(f"{where}: DynamoDB request key {node.arg!r} outside a store")
            findings.aws_modules.add(rel)
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            if any(n.startswith(("boto3", "botocore")) for n in names):
                findings.aws_call_sites.append(f"{where}: boto3/botocore imported outside a store or adapter")
                findings.aws_modules.add(rel)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--report", action="store_true", help="print the counts and exit 0")
    args = parser.parse_args()
    findings = Findings()
    files = sorted(PACKAGE.rglob("*.py"))
    for path in files:
        check_file(path, findings)
    if args.report:
        print(f"modules: {len(files)}")
        print(
            f"AWS uses outside stores/adapters: {len(findings.aws_call_sites)} in {len(findings.aws_modules)} modules "
            f"({findings.api_calls} AWS API operation calls)"
        )
        print(f"modules over {MAX_MODULE_LINES} lines: {len(findings.long_modules)}")
        print(f"functions over {MAX_FUNCTION_LINES} lines: {len(findings.long_functions)}")
        print(f"private helpers imported across modules: {len(findings.private_imports)}")
        for line in findings.violations():
            print("  " + line)
        return 0
    problems = findings.violations()
    for line in problems:
        print(line)
    if problems:
        print(f"{len(problems)} architecture rule violation(s)", file=sys.stderr)
        return 1
    print(f"architecture rules: {len(files)} modules, 0 violations")
    return 0


if __name__ == "__main__":
    sys.exit(main())
