"""DynamoDB's size limits, which moto does not enforce, checked on every call of the tests.

AWS refuses (``ValidationException``) a partition key over 2048 bytes, a sort key over 1024
bytes and an item over 400 KB (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html);
moto accepts them, so an e-mail of 2 KB once passed every test and would have been a 500 in
AWS. The handler tier installs :func:`install` on the client the code uses: any request that
AWS would refuse fails the same way here.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

MAX_PARTITION_KEY = 2048
MAX_SORT_KEY = 1024
MAX_ITEM = 400 * 1024
PARTITION_KEYS = ("pk", "gsi1pk")
SORT_KEYS = ("sk", "gsi1sk")


def _size(value: Any) -> int:
    """Roughly DynamoDB's own item-size arithmetic: UTF-8 strings, numbers, nested maps."""
    if isinstance(value, dict):
        if len(value) == 1:
            ((kind, inner),) = value.items()
            if kind == "S":
                return len(str(inner).encode("utf-8", "surrogatepass"))
            if kind in ("N", "BOOL", "NULL"):
                return 21 if kind == "N" else 1
            if kind in ("SS", "NS"):
                return sum(len(str(v).encode("utf-8", "surrogatepass")) for v in inner)
            if kind == "L":
                return 3 + sum(_size(v) + 1 for v in inner)
            if kind == "M":
                return 3 + sum(len(k.encode()) + _size(v) + 1 for k, v in inner.items())
            if kind == "B":
                return len(inner)
        return sum(len(k.encode()) + _size(v) for k, v in value.items())
    return 0


def _refuse(operation: str, message: str) -> ClientError:
    return ClientError({"Error": {"Code": "ValidationException", "Message": message}}, operation)


def check_item(operation: str, item: dict[str, Any]) -> None:
    for name in PARTITION_KEYS:
        if name in item and _size(item[name]) > MAX_PARTITION_KEY:
            raise _refuse(
                operation,
                f"One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of 2048 bytes ({name})",
            )
    for name in SORT_KEYS:
        if name in item and _size(item[name]) > MAX_SORT_KEY:
            raise _refuse(
                operation,
                f"One or more parameter values were invalid: Aggregated size of all range keys has exceeded the size limit of 1024 bytes ({name})",
            )
    if _size(item) > MAX_ITEM:
        raise _refuse(operation, "Item size has exceeded the maximum allowed size")


def _items(operation: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for field in ("Item", "Key"):
        if field in params:
            found.append(params[field])
    for entry in params.get("TransactItems", []):
        for action in entry.values():
            found += [action[f] for f in ("Item", "Key") if f in action]
    for requests in params.get("RequestItems", {}).values():
        if isinstance(requests, dict):  # BatchGetItem
            found += requests.get("Keys", [])
        else:  # BatchWriteItem
            for request in requests:
                found += [r.get("Item") or r.get("Key") for r in request.values()]
    values = params.get("ExpressionAttributeValues", {})
    if "KeyConditionExpression" in params:
        found += [{"pk": v} for v in values.values() if isinstance(v, dict) and "S" in v]
    return found


def check(params: dict[str, Any], model: Any, **_: Any) -> None:
    operation = getattr(model, "name", "DynamoDB")
    for item in _items(operation, params):
        check_item(operation, item)


def install(session: Any) -> None:
    """Make every DynamoDB client of ``session`` (the boto3 session the code's clients come
    from) refuse what DynamoDB refuses, before the request leaves; installing twice is once."""
    session.events.register("provide-client-params.dynamodb.*", check, unique_id="oph-dynamodb-limits")
