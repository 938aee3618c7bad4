"""`POST /_dev/reset` returns to the freshly seeded state, and everything works after it.

Named to run last: it wipes what the other end-to-end tests created. (A reset used to leave
the warm workers with secret ARNs of the previous embedded AWS: every login failed.)
"""

from __future__ import annotations

import re

import pytest

from tests.fixtures import DEMO, STRONG_PASSWORD

pytestmark = pytest.mark.e2e


def test_reset_then_the_demo_tenant_registers_and_logs_in(api):
    api.reset()
    assert api.outbox() == []
    identity = api.post("/v1/registrations/identity", DEMO)
    assert identity.status == 200, identity.text
    email = "demo.reset@exemple.com"
    created = api.post(
        "/v1/registrations",
        {
            "registration_token": identity.json()["registration_token"],
            "email": email,
            "email_confirmation": email,
            "password": STRONG_PASSWORD,
            "password_confirmation": STRONG_PASSWORD,
            "accept_terms": True,
        },
    )
    assert created.status == 201, created.text
    token = re.search(r"token=([A-Za-z0-9_%-]+)", api.outbox()[-1]["text"]).group(1)
    from urllib.parse import unquote

    assert api.post("/v1/registrations/verify", {"token": unquote(token)}).status == 200
    login = api.post("/v1/auth/login", {"email": email, "password": STRONG_PASSWORD})
    assert login.status == 200, login.text
    documents = api.get("/v1/documents", token=login.json()["access_token"])
    assert documents.status == 200
    assert [d["title"] for d in documents.json()["items"]] == ["Avis d'échéance — mai 2019"]
