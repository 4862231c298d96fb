"""Batch screening: read enterprise facts in bulk, evaluate compiled rules in SQL, write results.

Pure with respect to the portal database: the `db:` input is provided by `portal.services`.
"""
