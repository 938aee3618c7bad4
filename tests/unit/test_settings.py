"""Settings refuse a production stage that would e-mail tokens over http or fake payments."""

from __future__ import annotations

import pytest

from oph.platform import settings as settings_module


@pytest.fixture
def env(monkeypatch):
    monkeypatch.setenv("STAGE", "prod")
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://app.oph-aubervilliers.fr")
    monkeypatch.setenv("PAYMENT_PROVIDER", "systempay")
    settings_module.get_settings.cache_clear()
    yield monkeypatch
    settings_module.get_settings.cache_clear()


def test_production_with_https_and_systempay_is_accepted(env):
    assert settings_module.get_settings().is_production


def test_production_refuses_http_links(env):
    env.setenv("PUBLIC_BASE_URL", "http://app.oph-aubervilliers.fr")
    with pytest.raises(settings_module.MisconfiguredStage):
        settings_module.get_settings()


def test_production_refuses_the_sandbox_gateway(env):
    env.setenv("PAYMENT_PROVIDER", "sandbox")
    with pytest.raises(settings_module.MisconfiguredStage):
        settings_module.get_settings()


def test_links_are_built_from_the_configured_base(env):
    assert settings_module.get_settings().link("/links/verify-email?token=x") == (
        "https://app.oph-aubervilliers.fr/links/verify-email?token=x"
    )
