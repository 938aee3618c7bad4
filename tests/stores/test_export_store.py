"""ExportStore and its twin obey the same contract: a file is written once, never replaced."""

from __future__ import annotations

import pytest

from oph.payments.export_store import ExportStore
from tests.stores.conftest import twin_or_real
from tests.twins.payment_exports import MemoryExportStore

store = twin_or_real(ExportStore, MemoryExportStore)


@pytest.fixture(autouse=True)
def documents_bucket(request, store):
    if isinstance(store, ExportStore):
        request.getfixturevalue("runtime")  # the stage's settings name the documents bucket


def read(store, request, key: str) -> tuple[bytes, str] | None:
    if isinstance(store, MemoryExportStore):
        return store.files.get(key)
    import boto3

    from devserver import template as tpl

    s3 = boto3.client("s3", region_name=tpl.REGION)
    try:
        found = s3.get_object(Bucket=request.getfixturevalue("aws").bucket, Key=key)
    except s3.exceptions.NoSuchKey:
        return None
    return found["Body"].read(), found["ContentType"]


def test_a_file_is_written_once_and_never_replaced(store, request):
    key = "exports/direct-debit/2019-05-28.csv"
    assert store.put_once(key, b"first", "text/csv; charset=utf-8") is True
    assert store.put_once(key, b"second", "text/csv; charset=utf-8") is False
    assert read(store, request, key) == (b"first", "text/csv; charset=utf-8")


def test_each_key_is_its_own_file(store, request):
    assert store.put_once("exports/direct-debit/2019-05-28.csv", b"a", "text/csv") is True
    assert store.put_once("exports/direct-debit/2019-05-29.csv", b"b", "text/csv") is True
    assert read(store, request, "exports/direct-debit/2019-05-29.csv") == (b"b", "text/csv")
    assert read(store, request, "exports/direct-debit/2019-05-30.csv") is None
