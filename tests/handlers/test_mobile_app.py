"""The mobile app's public needs in the handler tier (contract section 10): the association
files validated against the platforms' documented formats, 404 when their parameter is
empty, the app configuration from the stack's parameters."""

from __future__ import annotations

import re

import pytest

APPLE_APP_ID = re.compile(r"^[A-Z0-9]{10}\.[A-Za-z0-9][A-Za-z0-9.-]*$")
FINGERPRINT = re.compile(r"^([0-9A-F]{2}:){31}[0-9A-F]{2}$")
# Apple's "applinks" (Supporting associated domains): details[] of {appIDs[], components[]},
# a component's keys among "/", "?", "#", "exclude", "comment".
COMPONENT_KEYS = {"/", "?", "#", "exclude", "comment"}


def _valid_apple_file(body) -> bool:
    details = body["applinks"]["details"]
    return all(
        isinstance(d["appIDs"], list)
        and all(APPLE_APP_ID.match(a) for a in d["appIDs"])
        and all(set(c) <= COMPONENT_KEYS for c in d["components"])
        for d in details
    ) and set(body) == {"applinks"}


def test_apple_file_from_the_parameters(client, monkeypatch):
    monkeypatch.setenv("APPLE_APP_ID", "ABCDE12345.fr.oph.app,FGHIJ67890.fr.oph.app.beta")
    reply = client.get("/.well-known/apple-app-site-association")
    assert reply.status == 200 and reply.header("Content-Type") == "application/json"
    body = reply.json()
    assert _valid_apple_file(body)
    assert body["applinks"]["details"][0]["appIDs"] == ["ABCDE12345.fr.oph.app", "FGHIJ67890.fr.oph.app.beta"]
    assert body["applinks"]["details"][0]["components"] == [{"/": "/links/*"}]


def test_android_file_from_the_parameters(client, monkeypatch):
    fingerprint = ":".join(["0A"] * 32)
    monkeypatch.setenv("ANDROID_PACKAGE", "fr.oph.app")
    monkeypatch.setenv("ANDROID_CERT_FINGERPRINTS", f"{fingerprint.lower()}, {fingerprint}")
    reply = client.get("/.well-known/assetlinks.json")
    assert reply.status == 200 and reply.header("Cache-Control") == "max-age=3600"
    (statement,) = reply.json()
    assert statement["target"] == {
        "namespace": "android_app",
        "package_name": "fr.oph.app",
        "sha256_cert_fingerprints": [fingerprint, fingerprint],  # upper case, as Google writes them
    }
    assert all(FINGERPRINT.match(f) for f in statement["target"]["sha256_cert_fingerprints"])


@pytest.mark.parametrize(
    ("path", "variable"),
    [
        ("/.well-known/apple-app-site-association", "APPLE_APP_ID"),
        ("/.well-known/assetlinks.json", "ANDROID_PACKAGE"),
        ("/.well-known/assetlinks.json", "ANDROID_CERT_FINGERPRINTS"),
    ],
)
def test_a_file_whose_parameter_is_empty_answers_404(client, monkeypatch, path, variable):
    monkeypatch.setenv(variable, "")
    reply = client.get(path)
    assert reply.status == 404 and reply.json()["code"] == "not_found"


def test_the_app_configuration_follows_the_parameters(client, monkeypatch):
    monkeypatch.setenv("APP_MIN_VERSION_IOS", "2.3.0")
    monkeypatch.setenv("APP_MAINTENANCE_MESSAGE", "Maintenance en cours, revenez à 14 h.")
    monkeypatch.setenv("APP_MAINTENANCE_UNTIL", "2019-05-28T12:00:00Z")
    monkeypatch.setenv("APP_FEATURES", "statement")
    reply = client.get("/v1/app/config")
    assert reply.status == 200 and reply.header("Cache-Control") == "public, max-age=300"
    assert reply.json() == {
        "min_version": {"ios": "2.3.0", "android": "1.0.0"},
        "maintenance": {"message": "Maintenance en cours, revenez à 14 h.", "until": "2019-05-28T12:00:00Z"},
        "features": {"direct_debit": False, "statement": True, "push": False},
    }


def test_the_template_gives_every_value_to_the_function_that_serves_them():
    from devserver import template as tpl

    register = next(f for f in tpl.functions() if f.logical_id == "RegisterFunction")
    for variable in (
        "APPLE_APP_ID",
        "ANDROID_PACKAGE",
        "ANDROID_CERT_FINGERPRINTS",
        "APP_MIN_VERSION_IOS",
        "APP_MIN_VERSION_ANDROID",
        "APP_MAINTENANCE_MESSAGE",
        "APP_MAINTENANCE_UNTIL",
        "APP_FEATURES",
    ):
        assert variable in register.environment, variable
    routes = {(r.method, r.path) for r in register.routes}
    assert {("GET", "/.well-known/apple-app-site-association"), ("GET", "/.well-known/assetlinks.json")} <= routes
