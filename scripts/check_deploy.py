"""Refuses a deployment configuration that must never reach AWS.

``make deploy ENV=prod`` runs it first: a production stage must use a real payment gateway
(never the sandbox) and an HTTPS public base URL (the links e-mailed to tenants carry
tokens). CloudFormation enforces the first rule too (template ``Rules``); the second has no
CloudFormation equivalent, hence this check (the layer also refuses at run time).
"""

from __future__ import annotations

import shlex
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def parameters(env: str) -> dict[str, str]:
    config = tomllib.loads((ROOT / "samconfig.toml").read_text(encoding="utf-8"))
    overrides = config.get(env, {}).get("deploy", {}).get("parameters", {}).get("parameter_overrides", "")
    return dict(part.split("=", 1) for part in shlex.split(overrides))


def problems(params: dict[str, str]) -> list[str]:
    found = []
    if params.get("Stage") == "prod":
        if params.get("PaymentProvider", "sandbox") == "sandbox":
            found.append("prod must not use the sandbox payment gateway (PaymentProvider=systempay)")
        if not params.get("PublicBaseUrl", "").startswith("https://"):
            found.append("prod needs an https:// PublicBaseUrl (e-mailed links carry tokens)")
    return found


def main() -> int:
    env = sys.argv[1] if len(sys.argv) > 1 else "dev"
    found = problems(parameters(env))
    for problem in found:
        print(f"refused: {problem}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())
