"""The Vobiz API simulator: a faithful local implementation of the CDR API (python -m airflow_provider_vobiz.simulator)."""
