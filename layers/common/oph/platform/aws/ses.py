"""The SES (SESv2) adapter of the platform's mailer: raw MIME, so attachments take the same path."""

from __future__ import annotations

from oph.platform import aws
from oph.platform.aws import unavailable_on_failure
from oph.platform.mail import Email, to_mime
from oph.platform.observability import count
from oph.platform.settings import get_settings


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
        with unavailable_on_failure(retry_after=30):
            aws.sesv2().send_email(**kwargs)
        count("EmailsSent")
