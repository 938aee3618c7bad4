"""The mobile app's own needs (contract section 10): the association files that let iOS and
Android open the e-mails' ``/links/*`` URLs in the installed app, and the app's configuration.

All of it comes from the stack's parameters (``AppleAppId``, ``AndroidPackage``,
``AndroidCertFingerprints``, ``AppMinVersionIos``, ``AppMinVersionAndroid``,
``AppMaintenanceMessage``, ``AppMaintenanceUntil``, ``AppFeatures``), read from the environment
at each request (cheap, and a test or the local server may change them).

The files follow the platforms' documentation: Apple's ``applinks`` with ``appIDs`` (team id,
a dot, the bundle id) and ``components`` (the paths the app opens), served at
``/.well-known/apple-app-site-association`` (no extension, ``application/json``, no redirect);
Google's Digital Asset Links statement list (``delegate_permission/common.handle_all_urls``,
``android_app`` target with the package and the SHA-256 fingerprints of the signing
certificates, upper-case hex pairs separated by colons) at ``/.well-known/assetlinks.json``.
"""

from __future__ import annotations

import os
import re
from typing import Any

# The paths the app opens: every page an e-mail links to (verify, reset, confirm, checkout…).
APP_PATHS = "/links/*"
# Apple: "<10-character team id>.<bundle id>".
APPLE_APP_ID = re.compile(r"^[A-Z0-9]{10}\.[A-Za-z0-9][A-Za-z0-9.-]*$")
# Android: a Java package name; a SHA-256 certificate fingerprint as 32 upper-case hex pairs.
ANDROID_PACKAGE = re.compile(r"^[a-zA-Z][a-zA-Z0-9_]*(\.[a-zA-Z][a-zA-Z0-9_]*)+$")
FINGERPRINT = re.compile(r"^([0-9A-F]{2}:){31}[0-9A-F]{2}$")
FEATURES = ("direct_debit", "statement", "push")
ASSOCIATION_CACHE = "max-age=3600"
CONFIG_CACHE = "public, max-age=300"


def _list(name: str) -> list[str]:
    return [part.strip() for part in (os.environ.get(name) or "").split(",") if part.strip()]


def apple_app_site_association() -> dict[str, Any] | None:
    """The file, or None when ``AppleAppId`` is empty (or names no valid app id)."""
    app_ids = [app_id for app_id in _list("APPLE_APP_ID") if APPLE_APP_ID.match(app_id)]
    if not app_ids:
        return None
    return {"applinks": {"details": [{"appIDs": app_ids, "components": [{"/": APP_PATHS}]}]}}


def asset_links() -> list[dict[str, Any]] | None:
    """The statement list, or None when ``AndroidPackage`` or the fingerprints are missing."""
    package = (os.environ.get("ANDROID_PACKAGE") or "").strip()
    fingerprints = [f.upper() for f in _list("ANDROID_CERT_FINGERPRINTS") if FINGERPRINT.match(f.upper())]
    if not ANDROID_PACKAGE.match(package) or not fingerprints:
        return None
    return [
        {
            "relation": ["delegate_permission/common.handle_all_urls"],
            "target": {"namespace": "android_app", "package_name": package, "sha256_cert_fingerprints": fingerprints},
        }
    ]


def app_config() -> dict[str, Any]:
    """``GET /v1/app/config``: the lowest supported versions, the maintenance notice (null
    unless ``AppMaintenanceMessage`` is set), the features the app may show."""
    message = (os.environ.get("APP_MAINTENANCE_MESSAGE") or "").strip()
    until = (os.environ.get("APP_MAINTENANCE_UNTIL") or "").strip() or None
    enabled = set(_list("APP_FEATURES")) if "APP_FEATURES" in os.environ else set(FEATURES)
    return {
        "min_version": {
            "ios": (os.environ.get("APP_MIN_VERSION_IOS") or "1.0.0").strip(),
            "android": (os.environ.get("APP_MIN_VERSION_ANDROID") or "1.0.0").strip(),
        },
        "maintenance": {"message": message, "until": until} if message else None,
        "features": {name: name in enabled for name in FEATURES},
    }
