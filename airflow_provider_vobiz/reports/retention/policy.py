"""What the retention report checks for: the obligation, the statuses of a day, the fields law enforcement
asks for, and the modes and defaults of the checks."""

from __future__ import annotations

REPORT_NAME = "trai_retention"
#: Days leaving the window within this many days of the as-of date are listed (and warned about).
EXPIRY_HORIZON_DAYS = 30

STATUS_PRESENT = "present"
STATUS_MISSING = "missing"
STATUS_FAILED_QUALITY = "failed_quality"
STATUS_CHECKSUM_MISMATCH = "checksum_mismatch"
STATUSES = (STATUS_PRESENT, STATUS_MISSING, STATUS_FAILED_QUALITY, STATUS_CHECKSUM_MISMATCH)
#: Statuses of a day whose partition is there and intact, so its Parquet can be read.
READABLE_STATUSES = (STATUS_PRESENT, STATUS_FAILED_QUALITY)

COMPLETENESS_MODES = ("sample", "full", "none")
#: Days read for field completeness in "sample" mode: spread evenly over the window, newest always included.
DEFAULT_COMPLETENESS_SAMPLE_DAYS = 31

#: The fields law enforcement asks for (call detail: who, whom, when, how long, which way, which SIP dialog).
LAW_ENFORCEMENT_FIELDS = (
    "caller_id_number",
    "destination_number",
    "start_time",
    "end_time",
    "duration",
    "call_direction",
    "sip_call_id",
)

POLICY = {
    "obligation": "rests on the licensee",
    "rule": "CDRs archived for at least two years for scrutiny by the licensor",
    "source": "Unified Licence amendment, DoT, 21 Dec 2021 (UL, UL(VNO), UAS; ISP and standalone "
    "Voicemail/Audiotex/UMS licences from 27 Jan 2022)",
    "window_rule": "as-of date minus two calendar years (29 February's anniversary in a year without one "
    "is 1 March), to the day before the as-of date: 731 days when the window holds a 29 February, else 730",
    "note": "This report mirrors the licensee's obligation for the CDRs of this account; it does not "
    "establish compliance of the licensee's network or records.",
}
