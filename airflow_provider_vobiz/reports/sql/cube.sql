-- The one scan of the lake. Every figure of the TRAI summary is a sum over the rows of `cube`.
--
-- Input: view `cdr` (a pyarrow dataset of the period's partitions; DuckDB pushes the column projection
-- down, so only the columns named here are read). Parameters: $tz (IANA timezone of the calling-hours
-- window), $win_start / $win_end (minutes after local midnight, window = [start, end)), $short_seconds (UCC
-- short-call threshold), $series_re (CLIs of the 140xx / 1600 / 1601 series).
--
-- One GROUPING SETS query: each set is a small hash table filled during the same scan, and `gset` names it.
-- N (calls) is count(*): the lake keeps one row per uuid (dedupe at ingest, disjoint day windows, and the
-- quality suite checks uniqueness), so rows = distinct uuids.
CREATE OR REPLACE TEMP TABLE cube AS
WITH c AS (
    SELECT
        call_date,
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
        date_diff('millisecond', start_time, progress_time)  AS pdd_ms,
        hour(timezone($tz, start_time))                       AS local_hour,
        NOT (hour(timezone($tz, start_time)) * 60 + minute(timezone($tz, start_time)) >= $win_start
             AND hour(timezone($tz, start_time)) * 60 + minute(timezone($tz, start_time)) < $win_end)
                                                              AS outside,
        CASE WHEN call_direction = 'outbound' THEN coalesce(campaign_id, '') END
                                                              AS campaign,
        coalesce(regexp_matches(caller_id_number, $series_re), false)
                                                              AS series_ok,
        CASE WHEN call_direction = 'outbound' THEN caller_id_number END
                                                              AS out_cli,
        CASE WHEN call_direction = 'inbound' THEN destination_number END
                                                              AS in_did,
        coalesce(trunk_id, '(none)')                          AS trunk,
        coalesce(region, '(none)')                            AS region,
        cost,
        total_cost,
        streaming_cost
    FROM cdr
)
SELECT
    CASE
        WHEN grouping(cause) = 0      THEN 'hangup'
        WHEN grouping(billsec) = 0    THEN 'billsec'
        WHEN grouping(ring_time) = 0  THEN 'ring'
        WHEN grouping(pdd_ms) = 0     THEN 'pdd'
        WHEN grouping(mos) = 0        THEN 'mos'
        WHEN grouping(jitter) = 0     THEN 'jitter'
        WHEN grouping(codec) = 0      THEN 'codec'
        WHEN grouping(local_hour) = 0 THEN 'hour'
        WHEN grouping(campaign) = 0   THEN 'campaign'
        WHEN grouping(out_cli) = 0    THEN 'cli'
        WHEN grouping(in_did) = 0     THEN 'did'
        WHEN grouping(trunk) = 0      THEN 'cost'
        ELSE 'main'
    END                                                                        AS gset,
    call_date, dir, ans, cause, source, billsec, ring_time, pdd_ms, mos, jitter, codec, local_hour,
    campaign, outside, series_ok, out_cli, in_did, trunk, region,
    count(*)                                                                   AS n,
    count(*) FILTER (WHERE ans)                                                AS answered,
    sum(billsec)                                                               AS billsec_sum,
    sum(duration)                                                              AS duration_sum,
    -- False-answer suspects: answered with no ringing, or billed for the whole call.
    count(*) FILTER (WHERE ans AND (ring_time = 0 OR billsec = duration))      AS false_answer,
    count(*) FILTER (WHERE ans AND billsec < $short_seconds)                   AS short_answered,
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
FROM c
GROUP BY GROUPING SETS (
    (call_date, dir),                                          -- main: traffic, quality counts, cost
    (call_date, dir, ans, cause, source),                      -- hangup attribution (classes derive from cause)
    (call_date, dir, billsec),                                 -- histogram: ACD median / p90
    (call_date, dir, ring_time),                               -- histogram: ring time p50 / p95
    (call_date, dir, pdd_ms),                                  -- histogram: PDD proxy p50 / p95
    (call_date, dir, ans, mos),                                -- histogram: MOS p5
    (call_date, dir, ans, jitter),                             -- histogram: jitter p95
    (call_date, dir, ans, codec),                              -- codec mix
    (call_date, dir, local_hour, ans),                         -- calls per local hour
    (call_date, dir, campaign, outside, series_ok, ans),       -- calling hours, number series
    (call_date, dir, out_cli),                                 -- UCC risk: outbound volume per CLI
    (call_date, dir, in_did),                                  -- UCC risk: inbound calls to each number
    (call_date, dir, trunk, region)                            -- cost by trunk and region
);
