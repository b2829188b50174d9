"""``python -m airflow_provider_vobiz.lake.ddl --engine athena|spark|trino|duckdb --lake-uri ...``."""

from airflow_provider_vobiz.lake.ddl.cli import main

raise SystemExit(main())
