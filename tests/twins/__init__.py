"""In-memory twins of the stores, for the unit tier (no moto, milliseconds per rule).

A twin keeps domain values in dicts and answers every method its real store has, with the
same rules (conditions included: its transaction items are ``memory_write``s that check and
apply). ``tests/stores`` runs one contract suite against each real store (moto) and its twin,
so a twin cannot drift from what the real store does.
"""
