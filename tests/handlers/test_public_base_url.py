"""The public base URL at run time when the template can only name its SSM parameter
(issue 18 point 6): links and the sandbox's notification URL lead to the API itself."""

from __future__ import annotations

import pytest

API_URL = "https://a1b2c3.execute-api.eu-west-3.amazonaws.com/dev"


@pytest.fixture
def stack_without_domain(monkeypatch):
    from moto import mock_aws

    from oph.platform import aws
    from oph.platform.settings import reset_caches

    with mock_aws():
        reset_caches()
        from devserver.aws_local import create_resources

        local = create_resources("")  # PublicBaseUrl empty, no custom domain: as a fresh `sam deploy`
        for name, value in local.shared_environment().items():
            monkeypatch.setenv(name, value)
        aws.client("ssm").put_parameter(Name="/oph-local/public-base-url", Value=API_URL, Type="String")
        reset_caches()
        yield local
        reset_caches()


def test_functions_read_the_api_url_from_the_parameter(stack_without_domain):
    import os

    from oph.platform.settings import get_settings

    assert os.environ["PUBLIC_BASE_URL"] == ""
    assert os.environ["PUBLIC_BASE_URL_PARAMETER"] == "/oph-local/public-base-url"
    assert get_settings().link("/links/verify-email?token=t") == API_URL + "/links/verify-email?token=t"


def test_the_sandbox_gateway_is_called_back_on_the_api(stack_without_domain):
    from oph.payments.adapters.gateway import SandboxGateway

    assert SandboxGateway().notification_url() == API_URL + "/v1/payments/notifications/sandbox"


def test_the_parameter_is_read_once_per_container(stack_without_domain):
    from oph.platform import aws
    from oph.platform.settings import get_settings

    first = get_settings().link("/a")
    aws.client("ssm").put_parameter(Name="/oph-local/public-base-url", Value="https://other", Overwrite=True)
    assert get_settings().link("/b") == API_URL + "/b" and first == API_URL + "/a"


def test_production_refuses_a_plain_http_parameter(stack_without_domain, monkeypatch):
    from oph.platform import aws
    from oph.platform.settings import MisconfiguredStage, get_settings, reset_caches

    monkeypatch.setenv("STAGE", "prod")
    monkeypatch.setenv("PAYMENT_PROVIDER", "systempay")
    aws.client("ssm").put_parameter(Name="/oph-local/public-base-url", Value="http://insecure", Overwrite=True)
    reset_caches()
    with pytest.raises(MisconfiguredStage):
        get_settings().link("/links/reset-password")
