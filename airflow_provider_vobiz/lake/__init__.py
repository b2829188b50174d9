"""The lake: layout (``paths``), S3 access (``storage``), manifests, the Parquet writer and publishing."""
