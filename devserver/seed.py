"""The demo tenant of the office's sample notice (contract section 7), seeded at start and
after ``POST /_dev/reset``.

It goes through the real admin import path: the CSV files of ``seed_data/`` are put in the
bucket under ``imports/`` and imported by the same use case the S3-triggered import function
runs, in the office's order: tenants, account movements, notices; the local server then drains
the notice queue (``pump_queues``), so the May 2019 avis d'échéance PDF is rendered by the real
notice worker.

The movements (``movements-demo.csv``) explain the demo tenant's 610,68 € at 23/05/2019: a
"Report à nouveau" of 450,68 € on 01/01/2019, then four months of rent (220,00 €), housing aid
(APL, -120,00 €) and transfers; the notices file's balance agrees with them (no warning).
"""

from __future__ import annotations

from pathlib import Path

DEMO_TENANT_NUMBER = "123456"
DEMO_LAST_NAME = "DUPOND"
DEMO_FIRST_NAME = "Jean"
DEMO_BIRTH_DATE = "1975-09-10"
SEED_DATA = Path(__file__).resolve().parent / "seed_data"
SEED_FILES = (
    ("tenants", "tenants-demo.csv"),
    ("movements", "movements-demo.csv"),
    ("notices", "notices-2019-05.csv"),
)


def seed() -> dict[str, str]:
    from oph.imports.service import import_object
    from oph.platform import aws
    from oph.platform.settings import get_settings

    bucket = get_settings().documents_bucket
    for kind, name in SEED_FILES:
        key = f"imports/{kind}/{name}"
        aws.s3().put_object(Bucket=bucket, Key=key, Body=(SEED_DATA / name).read_bytes())
        report = import_object(bucket, key)
        if report["status"] != "done" or report["rows_rejected"] or report["warnings"]:
            raise RuntimeError(f"demo seed import {name} failed: {report}")
    return {"tenant_number": DEMO_TENANT_NUMBER}
