"""Refuses a deployment configuration that must never reach AWS.

``make deploy ENV=prod`` runs it first: a production stage must use a real payment gateway
(never the sandbox), an HTTPS public base URL (the links e-mailed to tenants carry
tokens) and the office's real details instead of the template's placeholders (phone,
e-mail, emergency phone, SEPA creditor identifier, IBAN, BIC). CloudFormation enforces the first rule too (template ``Rules``); the second has no
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


# Template parameters whose defaults are placeholders (oph.platform.office.PLACEHOLDERS).
PLACEHOLDER_PARAMETERS = (
    "OfficePhone",
    "OfficeEmail",
    "EmergencyPhone",
    "CreditorIdentifier",
    "OfficeIban",
    "OfficeBic",
)


def placeholder_defaults() -> dict[str, str]:
    from cfnlint.decode import decode

    template, _ = decode(str(ROOT / "template.yaml"))
    declared = (template or {}).get("Parameters", {})
    return {name: str(declared[name].get("Default", "")) for name in PLACEHOLDER_PARAMETERS if name in declared}


def problems(params: dict[str, str]) -> list[str]:
    found = []
    if params.get("Stage") == "prod":
        for name, default in placeholder_defaults().items():
            if params.get(name, default) == default:
                found.append(f"prod needs the office's real {name} (the default is a placeholder)")
        if params.get("PaymentProvider", "sandbox") == "sandbox":
            found.append("prod must not use the sandbox payment gateway (PaymentProvider=systempay)")
        found += _public_url_problems(params)
    elif params.get("CustomDomainName") and not params.get("CustomDomainCertificateArn"):
        found.append("CustomDomainName needs CustomDomainCertificateArn (an ACM certificate in the stack's region)")
    return found


def _public_url_problems(params: dict[str, str]) -> list[str]:
    """prod serves the app's links on its own domain: the universal-link files must sit at a
    domain's root, which the API's execute-api URL (with its stage path) is not."""
    found = []
    base = params.get("PublicBaseUrl", "")
    if base and not base.startswith("https://"):
        found.append("prod needs an https:// PublicBaseUrl (e-mailed links carry tokens)")
    if not params.get("CustomDomainName") and not base:
        found.append("prod needs CustomDomainName (the app's domain; README, Deploy) or an https:// PublicBaseUrl")
    if params.get("CustomDomainName") and not params.get("CustomDomainCertificateArn"):
        found.append("prod's CustomDomainName needs CustomDomainCertificateArn (README, Deploy, step 2)")
    return found


def main() -> int:
    env = sys.argv[1] if len(sys.argv) > 1 else "dev"
    found = problems(parameters(env))
    for problem in found:
        print(f"refused: {problem}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    raise SystemExit(main())
