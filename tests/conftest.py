"""Shared test fixtures.

Tiers: ``tests/unit`` (domain with fakes, no AWS), ``tests/handlers`` (the real handlers
invoked in-process against moto's in-process mock, resources built from ``template.yaml``),
``tests/e2e`` (HTTP against the local server started once per session).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
for path in (str(ROOT / "layers" / "common"), str(ROOT)):
    if path not in sys.path:
        sys.path.insert(0, path)

# Before anything imports boto3: fake credentials, never real AWS; cheap bcrypt for speed
# (production cost is set by the template; the cost does not change any behaviour).
os.environ.update(
    {
        "AWS_DEFAULT_REGION": "eu-west-3",
        "AWS_REGION": "eu-west-3",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_METRICS_NAMESPACE": "MonEspaceLocataire",
        "BCRYPT_COST": os.environ.get("BCRYPT_COST", "4"),
    }
)
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.pop("AWS_PROFILE", None)

pytest_plugins = ["tests.fixtures", "tests.log_scan"]
