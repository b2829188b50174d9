"""One call's hangup diagnosis: what its fields mean (``rules``), how it is fetched (``fetch``), the page's
limits (``gate``), the masked answer for people (``call``) and the command line (``cli``).

Importing the package stays light (no Airflow, no HTTP client): the hook is imported when a call is fetched.
"""

from airflow_provider_vobiz.diagnosis.rules import RULES, Diagnosis, diagnose, diagnosis_json, quality_flag

__all__ = ["RULES", "Diagnosis", "diagnose", "diagnosis_json", "quality_flag"]
