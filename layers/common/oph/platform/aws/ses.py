"""The SES (SESv2) adapter of the platform's mailer: raw MIME, so attachments take the same path."""

from __future__ import annotations

from oph.platform import aws
from oph.platform.aws import unavailable_on_failure
from oph.platform.errors import ServiceUnavailable
from oph.platform.mail import Email, MailThrottled, to_mime
from oph.platform.observability import count
from oph.platform.settings import get_settings

# SES's answers that mean "too fast" (SESv2 and v1 names; LimitExceeded: the daily quota).
THROTTLING_CODES = frozenset(
    {"TooManyRequestsException", "Throttling", "ThrottlingException", "LimitExceededException"}
)


class SesMailer:
    def send(self, email: Email) -> None:
        settings = get_settings()
        sender = email.sender or settings.mail_from
        kwargs = {
            "FromEmailAddress": sender,
            "Destination": {"ToAddresses": email.to},
            "Content": {"Raw": {"Data": to_mime(email, sender)}},
        }
        if settings.ses_configuration_set:
            kwargs["ConfigurationSetName"] = settings.ses_configuration_set
        try:
            aws.sesv2().send_email(**kwargs)
        except Exception as exc:
            if aws.error_code(exc) in THROTTLING_CODES:
                raise MailThrottled(retry_after=30) from exc
            if aws.is_retryable(exc):
                raise ServiceUnavailable(retry_after=30) from exc
            raise
        count("EmailsSent")


def max_send_rate() -> float:
    """The account's sending rate (e-mails per second) in this region; 1 (the sandbox's) when
    SES cannot say, the safe side."""
    try:
        with unavailable_on_failure():
            return float(aws.client("ses").get_send_quota()["MaxSendRate"]) or 1.0
    except ServiceUnavailable:
        return 1.0
