-- The scan of the lake. Every figure of the TRAI summary is a sum over the rows of `cube`.
--
-- The report runs `day` once per partition (`cdr` = that day's columns, read from its part files through a
-- pyarrow dataset, only the columns named there), then each `-- name:` block below `day`, which adds that
-- day's rows of one grouping to `cube`. One day at a time keeps memory bounded by a day, whatever the
-- period. Parameters: $tz (IANA timezone of the calling-hours window), $offset_fixed / $utc_offset_min
-- (its UTC offset around that day, when constant), $win_start / $win_end (minutes after local midnight,
-- window = [start, end)), $short_seconds (UCC short-call threshold), $series_re (CLIs of the 140xx /
-- 1600 / 1601 series).
--
-- N (calls) is count(*): the lake keeps one row per uuid (dedupe at ingest, disjoint day windows, and the
-- quality suite checks uniqueness), so rows = distinct uuids.

-- name: create
CREATE OR REPLACE TEMP TABLE cube (
    gset VARCHAR, call_date VARCHAR, dir VARCHAR, ans BOOLEAN, cause VARCHAR, source VARCHAR,
    billsec BIGINT, ring_time BIGINT, pdd_ms BIGINT, mos DOUBLE, jitter DOUBLE, codec VARCHAR,
    local_hour INTEGER, campaign VARCHAR, outside BOOLEAN, out_cli VARCHAR, in_did VARCHAR,
    trunk VARCHAR, region VARCHAR,
    n BIGINT, answered BIGINT, billsec_sum HUGEINT, duration_sum HUGEINT, false_answer BIGINT,
    short_answered BIGINT, mos_n BIGINT, mos_sum DOUBLE, mos_good BIGINT, mos_poor BIGINT,
    jitter_n BIGINT, jitter_high BIGINT, loss_n BIGINT, loss_high BIGINT, pdd_n BIGINT, pdd_zero BIGINT,
    cost_sum DECIMAL(38, 6), total_cost_sum DECIMAL(38, 6), streaming_cost_sum DECIMAL(38, 6)
);

-- name: day
-- One day's calls, projected and classified (a view: each grouping below reads only the columns it needs).
CREATE OR REPLACE TEMP VIEW c AS
WITH p AS (
    SELECT
        *,
        -- Local time of day of start_time, in minutes after midnight. $utc_offset_min is the zone's offset
        -- on this day (arithmetic, fast); on a day with a DST change ($offset_fixed false) ICU converts
        -- each timestamp instead.
        CASE WHEN $offset_fixed
             THEN CAST(((epoch_us(start_time) // 60000000 + $utc_offset_min) % 1440 + 1440) % 1440 AS INTEGER)
             ELSE hour(timezone($tz, start_time)) * 60 + minute(timezone($tz, start_time))
        END AS local_minute
    FROM cdr
)
SELECT
    CAST(call_date AS VARCHAR)                            AS call_date,  -- the lake types it as a date
    call_direction                                        AS dir,
    coalesce(billsec, 0) > 0                              AS ans,
    coalesce(billsec, 0)                                  AS billsec,
    coalesce(duration, 0)                                 AS duration,
    ring_time,
    coalesce(hangup_cause, 'UNKNOWN')                     AS cause,
    coalesce(hangup_source, '(none)')                     AS source,
    coalesce(codec, '(none)')                             AS codec,
    mos,
    jitter,
    packet_loss,
    -- PDD proxy in whole milliseconds (microsecond difference, truncated).
    (epoch_us(progress_time) - epoch_us(start_time)) // 1000
                                                          AS pdd_ms,
    local_minute // 60                                    AS local_hour,
    -- Outside the permitted window [win_start, win_end) of local time of day.
    NOT (local_minute >= $win_start AND local_minute < $win_end)
                                                          AS outside,
    -- Outbound only ('' = no campaign); NULL on inbound rows keeps those out of the campaign grouping.
    CASE WHEN call_direction = 'outbound' THEN coalesce(campaign_id, '') END
                                                          AS campaign,
    CASE WHEN call_direction = 'outbound' THEN caller_id_number END
                                                          AS out_cli,
    CASE WHEN call_direction = 'inbound' THEN destination_number END
                                                          AS in_did,
    coalesce(trunk_id, '(none)')                          AS trunk,
    coalesce(region, '(none)')                            AS region,
    cost,
    total_cost,
    streaming_cost
FROM p;

-- name: main
-- Traffic, quality counts and cost per (day, direction).
INSERT INTO cube BY NAME
SELECT
    'main' AS gset, call_date, dir,
    count(*)                                                                   AS n,
    count(*) FILTER (WHERE ans)                                                AS answered,
    sum(billsec)                                                               AS billsec_sum,
    sum(duration)                                                              AS duration_sum,
    -- False-answer suspects: answered with no ringing, or billed for the whole call.
    count(*) FILTER (WHERE ans AND (ring_time = 0 OR billsec = duration))      AS false_answer,
    -- Voice quality is measured on answered calls (no media otherwise).
    count(mos) FILTER (WHERE ans)                                              AS mos_n,
    sum(mos) FILTER (WHERE ans)                                                AS mos_sum,
    count(*) FILTER (WHERE ans AND mos >= 3.6)                                 AS mos_good,
    count(*) FILTER (WHERE ans AND mos < 3.5)                                  AS mos_poor,
    count(jitter) FILTER (WHERE ans)                                           AS jitter_n,
    count(*) FILTER (WHERE ans AND jitter > 30)                                AS jitter_high,
    count(packet_loss) FILTER (WHERE ans)                                      AS loss_n,
    count(*) FILTER (WHERE ans AND packet_loss > 1)                            AS loss_high,
    count(pdd_ms)                                                              AS pdd_n,
    count(*) FILTER (WHERE pdd_ms = 0)                                         AS pdd_zero,
    sum(cost)                                                                  AS cost_sum,
    sum(total_cost)                                                            AS total_cost_sum,
    sum(streaming_cost)                                                        AS streaming_cost_sum
FROM c GROUP BY ALL;

-- name: hangup
-- Hangup attribution (classes derive from the cause in metrics.sql) and the codec mix: few combinations.
INSERT INTO cube BY NAME
SELECT 'hangup' AS gset, call_date, dir, ans, cause, source, codec, count(*) AS n FROM c GROUP BY ALL;

-- name: billsec
-- Histograms: exact percentiles without holding every value (metrics.sql, "quantiles").
INSERT INTO cube BY NAME
SELECT 'billsec' AS gset, call_date, dir, billsec, count(*) AS n FROM c WHERE ans GROUP BY ALL;

-- name: ring
INSERT INTO cube BY NAME
SELECT 'ring' AS gset, call_date, dir, ring_time, count(*) AS n FROM c WHERE ring_time IS NOT NULL GROUP BY ALL;

-- name: pdd
INSERT INTO cube BY NAME
SELECT 'pdd' AS gset, call_date, dir, pdd_ms, count(*) AS n FROM c WHERE pdd_ms IS NOT NULL GROUP BY ALL;

-- name: mos
INSERT INTO cube BY NAME
SELECT 'mos' AS gset, call_date, dir, true AS ans, mos, count(*) AS n FROM c
WHERE ans AND mos IS NOT NULL GROUP BY ALL;

-- name: jitter
INSERT INTO cube BY NAME
SELECT 'jitter' AS gset, call_date, dir, true AS ans, jitter, count(*) AS n FROM c
WHERE ans AND jitter IS NOT NULL GROUP BY ALL;

-- name: hour
INSERT INTO cube BY NAME
SELECT 'hour' AS gset, call_date, dir, local_hour, ans, count(*) AS n FROM c GROUP BY ALL;

-- name: campaign
-- Outbound calls (campaign is NULL on inbound rows) per campaign, calling-window side and CLI: calling
-- hours, number series (the CLI's series is checked on these few rows, in metrics.sql) and UCC risk
-- (volume, answered, answered calls shorter than $short_seconds per CLI).
INSERT INTO cube BY NAME
SELECT 'campaign' AS gset, call_date, dir, campaign, outside, out_cli, ans, count(*) AS n,
       count(*) FILTER (WHERE ans AND billsec < $short_seconds) AS short_answered
FROM c WHERE campaign IS NOT NULL GROUP BY ALL;

-- name: did
-- UCC risk: inbound calls to each number (joined to the outbound CLIs in metrics.sql).
INSERT INTO cube BY NAME
SELECT 'did' AS gset, call_date, dir, in_did, count(*) AS n FROM c WHERE in_did IS NOT NULL GROUP BY ALL;

-- name: cost
-- Cost by trunk and region.
INSERT INTO cube BY NAME
SELECT 'cost' AS gset, call_date, dir, trunk, region, count(*) AS n, count(*) FILTER (WHERE ans) AS answered,
       sum(billsec) AS billsec_sum, sum(cost) AS cost_sum, sum(total_cost) AS total_cost_sum,
       sum(streaming_cost) AS streaming_cost_sum
FROM c GROUP BY ALL;
