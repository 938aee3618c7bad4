"""What `sam local start-api --env-vars local/env.json` hands each function, computed by SAM
CLI's own code (no Docker needed). Runs in the tools venv (`.venv-tools`, where SAM CLI lives);
prints ``{"<logical id>": {"NAME": "value", ...}, ...}`` as JSON.

    .venv-tools/bin/python scripts/sam_local_env.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REGION = "eu-west-3"


def main() -> None:
    from samcli.commands.local.lib.local_lambda import LocalLambdaRunner
    from samcli.lib.providers.sam_function_provider import SamFunctionProvider
    from samcli.lib.providers.sam_stack_provider import SamLocalStackProvider

    env_vars = json.loads((ROOT / "local" / "env.json").read_text(encoding="utf-8"))
    stacks, _ = SamLocalStackProvider.get_stacks(str(ROOT / "template.yaml"))
    provider = SamFunctionProvider(stacks, ignore_code_extraction_warnings=True)
    runner = LocalLambdaRunner(
        local_runtime=None,  # type: ignore[arg-type] # resolving the environment needs no runtime
        function_provider=provider,
        cwd=str(ROOT),
        real_path=str(ROOT),
        aws_region=REGION,
        env_vars_values=env_vars,
    )
    resolved = {function.name: runner._make_env_vars(function).resolve() for function in provider.get_all()}
    json.dump(resolved, sys.stdout)


if __name__ == "__main__":
    main()
