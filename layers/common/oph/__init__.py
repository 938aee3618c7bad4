"""Shared package of "Mon espace locataire", the tenant app backend of the OPH d'Aubervilliers.

Vocabulary kept in the office's language where English has no good word:
- *numéro d'intitulé* (``tenant_number``): the tenancy number printed on the rent notice;
- *avis d'échéance*: the monthly rent notice;
- *quittance*: the rent receipt for a fully paid period (loi du 6 juillet 1989, art. 21);
- *titulaire*: a holder of the tenancy (co-tenants are several holders of one tenancy).

Layout: ``settings``/``clock``/``errors``/``http`` are the platform; domain modules hold use
cases that talk to small ports (repositories, mailer, document store, gateway) whose AWS
adapters live next to them. Handlers in ``functions/*/app.py`` stay thin.
"""
