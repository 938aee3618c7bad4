"""The architecture rules that a linter does not check (``make arch``).

1. Every AWS call and every DynamoDB expression lives in a store or adapter module (a module
   whose path contains ``store`` or ``adapters``) or in the platform's AWS package
   (``oph/platform/aws``). Anywhere else in ``layers/common/oph``, importing ``boto3``/``botocore``
   or the platform's AWS package, or writing a DynamoDB request key (``ConditionExpression``,
   ``TableName``…), is a violation.
2. Handlers (``functions/**.py``) never import ``boto3``/``botocore``, ``oph.platform.aws`` nor a
   store or adapter module: they call use cases. import-linter's contract ``handlers-no-aws``
   (pyproject.toml) says the same for the names its wildcards can match (``oph.*.store``,
   ``oph.*.adapters``); this check also catches ``oph.<context>.<name>_store`` modules.
3. No module over 400 lines, no function over 60 lines in ``oph`` (complexity over 15 is ruff's
   C901).
4. No private helper (``_name``) imported from another ``oph`` module, in ``oph`` or a handler.

The order of the bounded contexts (platform <- tenancy <- accounts <- documents <- payments |
imports <- privacy) is import-linter's contract ``oph-layers``, not this script's.

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
HANDLERS = ROOT / "functions"
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
AWS_MODULES = ("boto3", "botocore", "oph.platform.aws")


@dataclass
class Findings:
    aws_call_sites: list[str] = field(default_factory=list)
    api_calls: int = 0  # calls of a client's operation: aws.dynamodb().get_item(...)
    aws_modules: set[str] = field(default_factory=set)
    long_modules: list[str] = field(default_factory=list)
    long_functions: list[str] = field(default_factory=list)
    private_imports: list[str] = field(default_factory=list)
    handler_imports: list[str] = field(default_factory=list)

    def violations(self) -> list[str]:
        """One line per violation, by file then line (an expression can hold several AWS uses)."""
        lines = {
            *self.aws_call_sites,
            *self.handler_imports,
            *self.long_modules,
            *self.long_functions,
            *self.private_imports,
        }
        return sorted(lines, key=_file_then_line)


def _file_then_line(line: str) -> tuple[str, int, str]:
    path, _, rest = line.partition(":")
    number, _, message = rest.partition(":")
    return (path, int(number), message) if number.isdigit() else (path, 0, rest)


def is_store(path: Path) -> bool:
    rel = path.relative_to(PACKAGE).as_posix()
    return "store" in rel or "adapters" in rel or rel.startswith("platform/aws/")


def module_path(name: str) -> Path | None:
    """The file of the ``oph`` module ``name`` (``oph.tenancy.store``), or None if it is not one."""
    if name != "oph" and not name.startswith("oph."):
        return None
    base = PACKAGE.parent.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


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


def check_private_imports(tree: ast.Module, rel: str, findings: Findings) -> None:
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("oph"):
            for alias in node.names:
                if alias.name.startswith("_") and not alias.name.startswith("__"):
                    findings.private_imports.append(
                        f"{rel}:{node.lineno}: private {alias.name} imported from {node.module}"
                    )


def imported_modules(node: ast.Import | ast.ImportFrom) -> list[str]:
    """The modules an import statement binds: ``from oph.tenancy import store`` -> oph.tenancy.store."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if not node.module or node.level:
        return []
    names = [f"{node.module}.{alias.name}" for alias in node.names]
    return [name if module_path(name) else node.module for name in names]


def forbidden_in_handler(name: str) -> str | None:
    """Why a handler may not import ``name`` (None when it may)."""
    if name.split(".")[0] in ("boto3", "botocore"):
        return "the AWS SDK"
    path = module_path(name)
    if path is not None and is_store(path):
        return "oph.platform.aws" if name.startswith("oph.platform.aws") else "a store or adapter module"
    return None


def check_handler(path: Path, findings: Findings) -> None:
    """A handler imports use cases and ``oph.platform.http``, never AWS, a store or an adapter."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    rel = path.relative_to(ROOT).as_posix()
    check_private_imports(tree, rel, findings)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            for name in dict.fromkeys(imported_modules(node)):
                reason = forbidden_in_handler(name)
                if reason:
                    findings.handler_imports.append(f"{rel}:{node.lineno}: handler imports {name} ({reason})")


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
    check_private_imports(tree, rel, findings)
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
    handlers = sorted(HANDLERS.rglob("*.py"))
    for path in handlers:
        check_handler(path, findings)
    if args.report:
        print(f"modules: {len(files)}")
        print(
            f"AWS uses outside stores/adapters: {len(findings.aws_call_sites)} in {len(findings.aws_modules)} modules "
            f"({findings.api_calls} AWS API operation calls)"
        )
        print(f"modules over {MAX_MODULE_LINES} lines: {len(findings.long_modules)}")
        print(f"functions over {MAX_FUNCTION_LINES} lines: {len(findings.long_functions)}")
        print(f"handler modules: {len(handlers)}")
        print(f"handlers importing AWS, a store or an adapter: {len(findings.handler_imports)}")
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
    print(f"architecture rules: {len(files)} oph modules, {len(handlers)} handler modules, 0 violations")
    return 0


if __name__ == "__main__":
    sys.exit(main())
