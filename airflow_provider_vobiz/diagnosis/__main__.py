"""``python -m airflow_provider_vobiz.diagnosis`` (also ``python -m airflow_provider_vobiz.diagnose``)."""

import sys

from airflow_provider_vobiz.diagnosis.cli import main

sys.exit(main())
