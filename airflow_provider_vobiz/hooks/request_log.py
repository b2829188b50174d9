"""httpx logs every request URL at INFO: in the hook's requests, phone-number filters are masked first.

The number filters (``from_number``, ``to_number``) are personal data; the log shows what
:func:`airflow_provider_vobiz.privacy.mask_number` shows everywhere else in the provider.
"""

from __future__ import annotations

import logging

import httpx

from airflow_provider_vobiz.privacy import mask_number

NUMBER_PARAMS = ("from_number", "to_number")


class MaskNumbersInRequestLog(logging.Filter):
    """Masks the phone-number query parameters of the CDR endpoints in httpx's request log lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) > 1 and isinstance(args[1], httpx.URL):
            url: httpx.URL = args[1]
            if "/cdr" in url.path and any(key in url.params for key in NUMBER_PARAMS):
                params = url.params
                for key in NUMBER_PARAMS:
                    if key in params:
                        params = params.set(key, mask_number(params[key]))
                record.args = (args[0], str(url.copy_with(params=params)), *args[2:])
        return True


def install() -> None:
    """Add the filter to httpx's logger, once per process."""
    logger = logging.getLogger("httpx")
    if not any(isinstance(f, MaskNumbersInRequestLog) for f in logger.filters):
        logger.addFilter(MaskNumbersInRequestLog())
