"""``python -m airflow_provider_vobiz.diagnose``: kept for that command; the CLI lives in
:mod:`airflow_provider_vobiz.diagnosis.cli`."""

import sys

from airflow_provider_vobiz.diagnosis.cli import main

__all__ = ["main"]

if __name__ == "__main__":
    sys.exit(main())
