"""VobizHook without a server: filters, base URL rules, connection extras, retry arithmetic, CSV counting."""

from __future__ import annotations

import json
import pickle
import random
from datetime import date, datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from airflow_provider_vobiz.hooks.exceptions import VobizApiError, VobizAuthError
from airflow_provider_vobiz.hooks.filters import build_filter_params, check_limit, check_page, describe
from airflow_provider_vobiz.hooks.retry import RetryPolicy, parse_retry_after
from airflow_provider_vobiz.hooks.vobiz import VobizHook, _CsvRowCounter, normalise_base_url

TOKEN = "tok-unit-0123456789abcdef"


def _conn(monkeypatch, conn_id="vobiz_default", **fields):
    body = {"conn_type": "vobiz", "host": "https://api.vobiz.ai", "login": "MA_UNIT", "password": TOKEN}
    body.update(fields)
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(body))


# ---------------------------------------------------------------- filters


def test_filters_become_query_parameters():
    params = build_filter_params(
        from_number="+919876543210",
        to_number=" +918065480214 ",
        start_date=date(2026, 3, 1),
        end_date="2026-03-02",
        call_direction="outbound",
        min_duration="10",
    )
    assert params == {
        "from_number": "+919876543210",
        "to_number": "+918065480214",
        "start_date": "2026-03-01",
        "end_date": "2026-03-02",
        "call_direction": "outbound",
        "min_duration": "10",
    }
    assert build_filter_params(start_date=None, end_date=None, call_direction=None) == {}


@pytest.mark.parametrize(
    ("filters", "message"),
    [
        ({"start_date": "2026-03-01"}, "start_date requires end_date"),
        ({"end_date": "2026-03-01"}, "end_date requires start_date"),
        ({"start_date": "2026-03-02", "end_date": "2026-03-01"}, "is after end_date"),
        ({"start_date": "2026-3-1", "end_date": "2026-03-02"}, "YYYY-MM-DD"),
        ({"start_date": "2026-02-30", "end_date": "2026-03-02"}, "YYYY-MM-DD"),
        (
            {"start_date": datetime(2026, 3, 1, tzinfo=timezone.utc), "end_date": date(2026, 3, 2)},
            "not a datetime",
        ),
        ({"call_direction": "both"}, "call_direction must be one of"),
        ({"min_duration": -1}, "min_duration must be >= 0"),
        ({"min_duration": "ten"}, "min_duration must be an integer"),
        ({"min_duration": True}, "min_duration must be an integer"),
        ({"from_number": ""}, "from_number must be a non-empty"),
        ({"start_dat": "2026-03-01"}, "unknown CDR filter"),
    ],
)
def test_bad_filters_fail_before_any_request(filters, message):
    with pytest.raises(ValueError, match=message):
        build_filter_params(**filters)


def test_page_and_limit_checks():
    assert check_page(2, 100) == (2, 100)
    assert check_page("3", "50") == (3, 50)
    for page, per_page, message in [
        (0, 20, "page must be >= 1"),
        (1, 101, "per_page must be between"),
        (1, 0, "per_page"),
    ]:
        with pytest.raises(ValueError, match=message):
            check_page(page, per_page)
    assert check_limit(5) == 5
    with pytest.raises(ValueError, match="limit must be >= 1"):
        check_limit(0)


def test_hook_validates_before_reading_the_connection(monkeypatch):
    # No connection exists: the ValueError must come from the filter check, not from a lookup or a request.
    monkeypatch.delenv("AIRFLOW_CONN_VOBIZ_NOWHERE", raising=False)
    hook = VobizHook("vobiz_nowhere")
    with pytest.raises(ValueError, match="per_page must be between 1 and 100"):
        hook.list_cdrs(per_page=500)
    with pytest.raises(ValueError, match="start_date requires end_date"):
        next(hook.iter_records(start_date="2026-03-01"))
    with pytest.raises(ValueError, match="call_direction"):
        hook.export_to("/dev/null", call_direction="sideways")


def test_describe_hides_phone_numbers():
    text = describe({"from_number": "+919876543210", "start_date": "2026-03-01"})
    assert "+919876543210" not in text and "••••3210" in text and "start_date=2026-03-01" in text


# ---------------------------------------------------------------- base URL


@pytest.mark.parametrize(
    ("host", "port", "expected"),
    [
        ("https://api.vobiz.ai/", None, "https://api.vobiz.ai"),
        ("api.vobiz.ai", None, "https://api.vobiz.ai"),
        ("http://127.0.0.1:8080", None, "http://127.0.0.1:8080"),
        ("http://localhost", 9000, "http://localhost:9000"),
        ("http://[::1]:8080", None, "http://[::1]:8080"),
        ("https://api.vobiz.ai/proxy", None, "https://api.vobiz.ai/proxy"),
    ],
)
def test_base_url_accepted(host, port, expected):
    assert normalise_base_url(host, port) == expected


@pytest.mark.parametrize(
    ("host", "message"),
    [
        ("http://api.vobiz.ai", "refusing to send the Vobiz Auth Token over plain http"),
        ("http://10.0.0.5:8080", "plain http"),
        ("", "has no host"),
        ("ftp://api.vobiz.ai", "http"),
        ("https://user:pw@api.vobiz.ai", "must not carry credentials"),
    ],
)
def test_base_url_refused(host, message):
    with pytest.raises(ValueError, match=message):
        normalise_base_url(host)


def test_plain_http_is_refused_when_the_hook_reads_the_connection(monkeypatch):
    _conn(monkeypatch, host="http://cdr.example.com")
    with pytest.raises(ValueError, match="plain http") as err:
        VobizHook().list_cdrs()
    assert TOKEN not in str(err.value)


def test_plain_http_to_a_private_simulator_only_with_the_explicit_extra(monkeypatch):
    # docker-compose's simulator is http://simulator:8765: not loopback, so it needs the opt-in extra.
    _conn(monkeypatch, host="http://simulator:8765", extra={"allow_insecure_http": True})
    assert VobizHook().base_url == "http://simulator:8765"
    _conn(monkeypatch, host="http://simulator:8765", extra={"allow_insecure_http": "false"})
    with pytest.raises(ValueError, match="plain http"):
        VobizHook().base_url  # noqa: B018 - reading it validates the connection


# ---------------------------------------------------------------- connection and extras


def test_settings_from_json_connection(monkeypatch):
    _conn(
        monkeypatch,
        extra={"timeout": 5, "max_retries": 2, "retry_budget_seconds": 12.5, "page_concurrency": 6},
    )
    hook = VobizHook()
    assert hook.auth_id == "MA_UNIT"
    assert hook.base_url == "https://api.vobiz.ai"
    assert hook.retry_policy.max_retries == 2
    assert hook.retry_policy.budget_seconds == 12.5
    assert hook.page_concurrency == 6
    assert hook.client.timeout.read == 5
    assert hook.client.headers["X-Auth-ID"] == "MA_UNIT"
    hook.close()


def test_settings_from_uri_connection_with_string_extras(monkeypatch):
    # URI-form connections deliver extras as strings.
    monkeypatch.setenv(
        "AIRFLOW_CONN_VOBIZ_URI",
        f"vobiz://MA_URI:{TOKEN}@api.vobiz.ai/?timeout=7&max_retries=3&retry_budget_seconds=9&page_concurrency=2",
    )
    hook = VobizHook(vobiz_conn_id="vobiz_uri")
    assert (hook.auth_id, hook.base_url) == ("MA_URI", "https://api.vobiz.ai")
    assert hook.retry_policy.max_retries == 3 and hook.retry_policy.budget_seconds == 9
    assert hook.page_concurrency == 2
    assert hook._settings.timeout == 7


def test_constructor_overrides_extras(monkeypatch):
    _conn(monkeypatch, extra={"max_retries": "5", "page_concurrency": "3"})
    hook = VobizHook(max_retries=0, page_concurrency=1, backoff_base_seconds=0.01)
    assert hook.retry_policy.max_retries == 0
    assert hook.page_concurrency == 1
    assert hook.retry_policy.backoff_base == 0.01


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"timeout": "soon"}, "'timeout' must be a number"),
        ({"max_retries": "2.5"}, "'max_retries' must be an integer"),
        ({"max_retries": -1}, "'max_retries' must be >= 0"),
        ({"page_concurrency": 0}, "'page_concurrency' must be >= 1"),
        ({"page_concurrency": 64}, "'page_concurrency' must be <= 32"),
    ],
)
def test_bad_extras(monkeypatch, extra, message):
    _conn(monkeypatch, extra=extra)
    with pytest.raises(ValueError, match=message):
        VobizHook().retry_policy  # noqa: B018


def test_missing_login_or_token(monkeypatch):
    _conn(monkeypatch, login=None)
    with pytest.raises(ValueError, match="no login"):
        VobizHook().auth_id  # noqa: B018
    _conn(monkeypatch, password=None)
    with pytest.raises(ValueError, match="no password"):
        VobizHook().auth_id  # noqa: B018


def test_token_goes_to_the_masker_and_nowhere_else(monkeypatch):
    from airflow.sdk.log import redact

    _conn(monkeypatch)
    hook = VobizHook()
    assert hook.auth_id == "MA_UNIT"  # reading the connection registers the token
    assert redact(f"header X-Auth-Token: {TOKEN}") == "header X-Auth-Token: ***"
    assert TOKEN not in repr(hook)
    assert TOKEN not in repr(hook.client)
    assert TOKEN not in hook._scrub(f"echo {TOKEN} echo")


def test_error_text_echoing_a_number_is_masked(monkeypatch):
    _conn(monkeypatch)
    hook = VobizHook()
    message = hook._scrub("to_number +919876543210 is not a number we know (request 2026-12-01)")
    assert message == "to_number ••••3210 is not a number we know (request 2026-12-01)"


# ---------------------------------------------------------------- retry arithmetic


def test_backoff_is_exponential_capped_and_jittered():
    policy = RetryPolicy(backoff_base=1.0, backoff_max=8.0)
    rng = random.Random(1)
    for retry, ceiling in [(1, 1), (2, 2), (3, 4), (4, 8), (5, 8), (10, 8)]:
        waits = [policy.backoff(retry, rng) for _ in range(200)]
        assert all(ceiling / 2 <= w <= ceiling for w in waits)
        assert max(waits) - min(waits) > ceiling / 4  # jitter spreads the retries
    # Retry-After is honoured: never less than asked.
    assert all(policy.wait(1, 3.0, rng) >= 3.0 for _ in range(50))
    assert all(policy.wait(1, 3.0, rng) <= 3.5 for _ in range(50))


def test_parse_retry_after():
    assert parse_retry_after("2") == 2.0
    assert parse_retry_after(" 0.5 ") == 0.5
    assert parse_retry_after("-3") == 0.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    now = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
    assert parse_retry_after(format_datetime(now + timedelta(seconds=30), usegmt=True), now=now) == 30.0


def test_exceptions_carry_fields_and_pickle():
    err = VobizAuthError(
        "Vobiz API list (page 1): HTTP 401", endpoint="list", status=401, request_id="r-1", api_message="bad"
    )
    assert isinstance(err, VobizApiError)
    clone = pickle.loads(pickle.dumps(err))
    assert type(clone) is VobizAuthError
    assert (clone.endpoint, clone.status, clone.request_id, clone.api_message) == ("list", 401, "r-1", "bad")
    assert str(clone) == str(err)


# ---------------------------------------------------------------- CSV row counting


@pytest.mark.parametrize(
    ("chunks", "rows"),
    [
        ([b""], 0),
        ([b"a,b\n"], 0),
        ([b"a,b\n1,2\n3,4\n"], 2),
        ([b"a,b\n1,2\n3,4"], 2),  # no trailing newline
        ([b"a,b\n1,", b"2\n3", b",4\n"], 2),  # chunk boundaries anywhere
        ([b'a,b\n"x\ny",2\n', b'"q""', b'uoted\n",3\n'], 2),  # newlines inside quotes are not records
    ],
)
def test_csv_row_counter(chunks, rows):
    counter = _CsvRowCounter()
    for chunk in chunks:
        counter.feed(chunk)
    assert counter.data_rows == rows


def test_padded_date_range():
    from airflow_provider_vobiz.cdr.window import DayWindow

    def padded_date_range(day, pad_days=1):
        return DayWindow.for_day(day, "Asia/Kolkata").query_filters(pad_days)

    assert padded_date_range(date(2026, 3, 1)) == {"start_date": "2026-02-28", "end_date": "2026-03-02"}
    assert padded_date_range("2024-03-01", pad_days=0) == {
        "start_date": "2024-03-01",
        "end_date": "2024-03-01",
    }
    assert build_filter_params(**padded_date_range("2024-02-29", 2)) == {
        "start_date": "2024-02-27",
        "end_date": "2024-03-02",
    }
    with pytest.raises(ValueError, match="pad_days must be >= 0"):
        padded_date_range("2026-03-01", -1)


def test_response_classification_and_messages(monkeypatch):
    """The status → exception mapping, the request id and the scrubbing of an API that echoes the token."""
    import httpx

    from airflow_provider_vobiz.hooks.exceptions import VobizBadRequestError, VobizNotFoundError
    from airflow_provider_vobiz.hooks.vobiz import _Retryable

    _conn(monkeypatch)
    hook = VobizHook()
    hook.auth_id  # noqa: B018  (reads the connection, so the hook knows what to scrub)
    request = httpx.Request("GET", "https://api.vobiz.ai/api/v1/Account/MA_UNIT/cdr")

    def response(status, body, **headers):
        return httpx.Response(status, json=body, headers=headers, request=request)

    hook._check_response("list", "page 1", response(200, {"data": []}))
    with pytest.raises(_Retryable) as retry:
        hook._check_response("list", "page 4", response(429, {"error": "slow down"}, **{"Retry-After": "3"}))
    assert (retry.value.kind, retry.value.status, retry.value.retry_after) == ("rate_limit", 429, 3.0)
    with pytest.raises(_Retryable) as retry:
        hook._check_response("export", "q", response(502, {}))
    assert retry.value.kind == "server" and retry.value.retry_after is None

    echo = {"success": False, "error": "bad_request", "message": f"token {TOKEN} may not filter by 'x'"}
    with pytest.raises(VobizBadRequestError) as err:
        hook._check_response("search", "page 2", response(400, echo, **{"X-Request-ID": "req-77"}))
    text = str(err.value)
    assert text.startswith("Vobiz API search (page 2): HTTP 400 Bad Request; the API said: token *** may not")
    assert text.endswith("(bad_request) [request id req-77]") and TOKEN not in text
    assert err.value.request_id == "req-77" and TOKEN not in err.value.api_message

    with pytest.raises(VobizAuthError, match="check the Auth ID \\(login\\) and Auth Token \\(password\\)"):
        hook._check_response("list", "page 1", response(403, {"message": "forbidden"}))
    with pytest.raises(VobizNotFoundError):
        hook._check_response("single", "call x", response(404, {"message": "no such call"}))
    with pytest.raises(VobizApiError, match="redirect to https://elsewhere.example not followed"):
        hook._check_response(
            "list",
            "page 1",
            httpx.Response(302, headers={"Location": "https://elsewhere.example"}, request=request),
        )
