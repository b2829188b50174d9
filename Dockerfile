# The provider on the official Airflow 3.3.2 image, installed with the same pins as `make`.
FROM apache/airflow:3.3.2-python3.11
COPY --chown=airflow:root . /opt/airflow/provider
RUN pip install --no-cache-dir -c /opt/airflow/provider/requirements/constraints.txt /opt/airflow/provider
