"""The demo tenant of the office's sample notice (contract section 7), seeded at start and
after ``POST /_dev/reset``.
"""

from __future__ import annotations

DEMO_TENANT_NUMBER = "123456"
DEMO_LAST_NAME = "DUPOND"
DEMO_FIRST_NAME = "Jean"
DEMO_BIRTH_DATE = "1975-09-10"


def seed() -> dict[str, str]:
    from oph.tenancy import Holder, Tenancy, TenancyRepository

    repo = TenancyRepository()
    repo.put_holder(Holder(DEMO_TENANT_NUMBER, DEMO_LAST_NAME, DEMO_FIRST_NAME, DEMO_BIRTH_DATE))
    repo.put_tenancy(
        Tenancy(
            tenant_number=DEMO_TENANT_NUMBER,
            contract_number="0123456-01",
            third_party_number="T0098765",
            address_line1="10 Rue Hémet",
            postal_code="93300",
            city="AUBERVILLIERS",
            balance_cents=61068,
            balance_date="2019-05-23",
        )
    )
    return {"tenant_number": DEMO_TENANT_NUMBER}
