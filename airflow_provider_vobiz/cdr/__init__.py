"""The CDR model: schema, normalisation of API records into Arrow, day windows, dedupe and rejects.

This package knows no transport and no storage: it never imports ``hooks`` or ``lake``.
"""
