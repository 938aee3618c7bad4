"""The IBANs of direct-debit mandates, encrypted with a KMS key of the stack (``IBAN_KEY_ID``).

One KMS ``Encrypt`` per mandate, not envelope encryption: an IBAN is 34 bytes at most (KMS
encrypts up to 4 KiB directly), so a data key would add a cipher to ship in the layer and a
second secret to protect for nothing; the plaintext never leaves KMS's boundary but in the
function that encrypts it, and each decryption (the daily export only) is one call CloudTrail
records. The *encryption context* binds a ciphertext to its mandate (tenant number and mandate
reference, :func:`mandate_context`): KMS refuses to decrypt it under any other, so a ciphertext copied onto another
mandate is useless, and the context is written in CloudTrail's record of every call.

The payments function may only encrypt, the payment-jobs function (the export) only decrypt
(template.yaml). Locally the key is created in moto's KMS from the template
(:mod:`devserver.aws_local`).
"""

from __future__ import annotations

import base64
import binascii
import os

from oph.payments.iban import compact
from oph.platform import aws
from oph.platform.aws import error_code, unavailable_on_failure
from oph.platform.errors import ServiceUnavailable
from oph.platform.observability import get_logger
from oph.platform.provider import Provider

# KMS failing (its own outage or its key store's): a dependency down, 503 with Retry-After.
KMS_DOWN = frozenset({"KMSInternalException", "DependencyTimeoutException", "KeyUnavailableException"})
# The key itself cannot be used (disabled, pending deletion): a 503 as well, and an error in
# the logs, since only an administrator can put it right.
KEY_UNUSABLE = frozenset({"DisabledException", "KMSInvalidStateException"})


class IbanUnreadable(Exception):
    """A ciphertext KMS refuses to decrypt under this context (tampered, or not this mandate's)."""


class IbanVault:
    def __init__(self, key_id: str | None = None) -> None:
        self.key_id = key_id or os.environ.get("IBAN_KEY_ID", "")

    def _call(self, operation: str, **kwargs: object) -> dict[str, object]:
        if not self.key_id:
            get_logger().error("IBAN_KEY_ID is not configured")
            raise ServiceUnavailable()
        try:
            with unavailable_on_failure():
                reply: dict[str, object] = getattr(aws.client("kms"), operation)(KeyId=self.key_id, **kwargs)
                return reply
        except ServiceUnavailable:
            raise
        except Exception as exc:
            code = error_code(exc)
            if code in KMS_DOWN | KEY_UNUSABLE:
                log = get_logger().error if code in KEY_UNUSABLE else get_logger().warning
                log("the IBAN key cannot be used", extra={"kms_error": code})
                raise ServiceUnavailable() from None
            if code in ("InvalidCiphertextException", "IncorrectKeyException"):
                raise IbanUnreadable(code) from None
            raise

    def encrypt(self, iban: str, *, context: dict[str, str]) -> str:
        """The IBAN (compacted: no spaces, upper case) encrypted, as base64 text."""
        reply = self._call("encrypt", Plaintext=compact(iban).encode("ascii"), EncryptionContext=context)
        blob: bytes = reply["CiphertextBlob"]  # type: ignore[assignment]
        return base64.b64encode(blob).decode("ascii")

    def decrypt(self, blob: str, *, context: dict[str, str]) -> str:
        """The IBAN a ciphertext of :meth:`encrypt` holds (compacted); :class:`IbanUnreadable`
        when it is not a ciphertext of this key under this context."""
        try:
            raw = base64.b64decode(blob, validate=True)
        except (binascii.Error, ValueError):
            raise IbanUnreadable("not base64") from None
        reply = self._call("decrypt", CiphertextBlob=raw, EncryptionContext=context)
        plaintext: bytes = reply["Plaintext"]  # type: ignore[assignment]
        return plaintext.decode("ascii")


iban_vault: Provider[IbanVault] = Provider(IbanVault)


def mandate_context(tenant_number: str, mandate_reference: str) -> dict[str, str]:
    """The encryption context of a mandate's IBAN, at encryption and decryption alike: what the
    ciphertext is bound to (the keys the IAM policies allow: template.yaml)."""
    return {"tenant_number": tenant_number, "mandate_reference": mandate_reference}
