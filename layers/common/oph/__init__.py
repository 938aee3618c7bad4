"""Shared package of "Mon espace locataire", the tenant app backend of the OPH d'Aubervilliers.

Vocabulary kept in the office's language where English has no good word:
- *numéro d'intitulé* (``tenant_number``): the tenancy number printed on the rent notice;
- *avis d'échéance*: the monthly rent notice;
- *quittance*: the rent receipt for a fully paid period (loi du 6 juillet 1989, art. 21);
- *titulaire*: a holder of the tenancy (co-tenants are several holders of one tenancy).

Layout: one package per bounded context, lower ones never importing higher ones —
``platform`` (settings, clock, errors, HTTP edge, mail composition, Transaction, Provider, and
``platform.aws``: the only AWS clients) <- ``tenancy`` <- ``accounts`` <- ``documents`` <-
``payments`` | ``imports`` <- ``privacy``. Each context holds its model, its use cases, and
its store modules (the only modules that talk to AWS and know key layouts). Handlers in
``functions/*/app.py`` call use cases and stay thin. See README, "Architecture".
"""
