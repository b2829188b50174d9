-- The formulas of the TRAI summary, over `cube` (cube.sql). Each figure is computed for four scopes:
-- (day, direction), (day, all), (period, direction), (period, all), by counting every cube row once in each
-- scope it belongs to. `hangup_classes(cause, class)` is the configured class table (U, D, X; else K).

CREATE OR REPLACE TEMP TABLE scoped AS
SELECT
    CASE WHEN s.all_days THEN 'period' ELSE c.call_date END AS day,
    CASE WHEN s.all_dirs THEN 'all' ELSE c.dir END          AS direction,
    c.* EXCLUDE (call_date, dir)
FROM cube AS c
CROSS JOIN (VALUES (false, false), (false, true), (true, false), (true, true)) AS s(all_days, all_dirs);

-- name: traffic
WITH m AS (
    SELECT day, direction,
           sum(n) AS calls, sum(answered) AS answered, sum(billsec_sum) AS billsec_sum,
           sum(duration_sum) AS duration_sum, sum(false_answer) AS false_answer,
           sum(mos_n) AS mos_n, sum(mos_sum) AS mos_sum, sum(mos_good) AS mos_good, sum(mos_poor) AS mos_poor,
           sum(jitter_n) AS jitter_n, sum(jitter_high) AS jitter_high,
           sum(loss_n) AS loss_n, sum(loss_high) AS loss_high, sum(pdd_n) AS pdd_n, sum(pdd_zero) AS pdd_zero,
           sum(cost_sum) AS cost, sum(total_cost_sum) AS total_cost, sum(streaming_cost_sum) AS streaming_cost
    FROM scoped WHERE gset = 'main' GROUP BY ALL
), h AS (
    SELECT s.day, s.direction,
           sum(s.n) FILTER (WHERE NOT s.ans AND coalesce(k.class, 'K') = 'U')       AS u,
           sum(s.n) FILTER (WHERE NOT s.ans AND coalesce(k.class, 'K') = 'D')       AS d,
           sum(s.n) FILTER (WHERE NOT s.ans AND coalesce(k.class, 'K') = 'X')       AS x,
           sum(s.n) FILTER (WHERE NOT s.ans AND coalesce(k.class, 'K') = 'K')       AS k,
           sum(s.n) FILTER (WHERE NOT s.ans AND s.cause = 'ORIGINATOR_CANCEL')       AS originator_cancel,
           sum(s.n) FILTER (WHERE s.ans AND coalesce(k.class, 'K') = 'X')           AS dropped
    FROM scoped AS s LEFT JOIN hangup_classes AS k ON k.cause = s.cause
    WHERE s.gset = 'hangup' GROUP BY ALL
)
SELECT
    m.day, m.direction,
    m.calls, m.answered, m.calls - m.answered                                      AS unanswered,
    m.billsec_sum, m.duration_sum,
    m.billsec_sum / 60.0                                                           AS mou,
    m.answered / nullif(m.calls, 0)                                                AS asr,
    (m.answered + coalesce(h.u, 0)) / nullif(m.calls, 0)                           AS ner,
    (m.answered + coalesce(h.u, 0) - coalesce(h.originator_cancel, 0)) / nullif(m.calls, 0)
                                                                                   AS ner_excl_originator_cancel,
    (m.calls - coalesce(h.x, 0)) / nullif(m.calls, 0)                              AS setup_success_proxy,
    coalesce(h.dropped, 0) / nullif(m.answered, 0)                                 AS dropped_call_proxy,
    m.billsec_sum / nullif(m.answered, 0)                                          AS acd_mean,
    m.false_answer                                                                 AS false_answer_suspects,
    m.false_answer / nullif(m.answered, 0)                                         AS false_answer_share,
    m.mos_sum / nullif(m.mos_n, 0)                                                 AS mos_mean,
    m.mos_good / nullif(m.mos_n, 0)                                                AS mos_good_share,
    m.mos_poor / nullif(m.mos_n, 0)                                                AS mos_poor_share,
    m.jitter_high / nullif(m.jitter_n, 0)                                          AS jitter_over_30ms_share,
    m.loss_high / nullif(m.loss_n, 0)                                              AS packet_loss_over_1pct_share,
    m.pdd_zero / nullif(m.pdd_n, 0)                                                AS pdd_zero_share,
    coalesce(h.u, 0) AS unanswered_u, coalesce(h.d, 0) AS unanswered_d,
    coalesce(h.x, 0) AS unanswered_x, coalesce(h.k, 0) AS unanswered_k,
    coalesce(h.originator_cancel, 0) AS originator_cancel, coalesce(h.dropped, 0) AS dropped,
    m.cost, m.total_cost, m.streaming_cost,
    m.total_cost / nullif(m.billsec_sum / 60.0, 0)                                 AS total_cost_per_answered_minute
FROM m LEFT JOIN h USING (day, direction)
ORDER BY day, direction;

-- name: quantiles
-- Nearest-rank percentiles (the smallest value whose cumulative count reaches ceil(p/100 * n)), exact, from
-- histograms: integer arithmetic for the rank, so no float rounding moves a boundary.
WITH hist AS (
    SELECT day, direction, 'acd' AS measure, billsec::DOUBLE AS v, sum(n) AS n
    FROM scoped WHERE gset = 'billsec' AND billsec > 0 GROUP BY ALL
    UNION ALL
    SELECT day, direction, 'ring_time', ring_time::DOUBLE, sum(n)
    FROM scoped WHERE gset = 'ring' AND ring_time IS NOT NULL GROUP BY ALL
    UNION ALL
    SELECT day, direction, 'pdd_ms', pdd_ms::DOUBLE, sum(n)
    FROM scoped WHERE gset = 'pdd' AND pdd_ms IS NOT NULL GROUP BY ALL
    UNION ALL
    SELECT day, direction, 'mos', mos, sum(n)
    FROM scoped WHERE gset = 'mos' AND ans AND mos IS NOT NULL GROUP BY ALL
    UNION ALL
    SELECT day, direction, 'jitter', jitter, sum(n)
    FROM scoped WHERE gset = 'jitter' AND ans AND jitter IS NOT NULL GROUP BY ALL
), cum AS (
    SELECT *,
           sum(n) OVER (PARTITION BY day, direction, measure ORDER BY v ROWS UNBOUNDED PRECEDING) AS c,
           sum(n) OVER (PARTITION BY day, direction, measure)                                     AS total
    FROM hist
)
SELECT day, direction, measure,
       min(v) FILTER (WHERE c * 100 >= total * 5)  AS p5,
       min(v) FILTER (WHERE c * 100 >= total * 50) AS p50,
       min(v) FILTER (WHERE c * 100 >= total * 90) AS p90,
       min(v) FILTER (WHERE c * 100 >= total * 95) AS p95
FROM cum GROUP BY ALL ORDER BY ALL;

-- name: hangup
SELECT s.day, s.direction, s.ans AS answered, s.cause, coalesce(k.class, 'K') AS class, s.source, sum(s.n) AS calls
FROM scoped AS s LEFT JOIN hangup_classes AS k ON k.cause = s.cause
WHERE s.gset = 'hangup' GROUP BY ALL ORDER BY ALL;

-- name: codec
SELECT day, direction, codec, sum(n) AS answered
FROM scoped WHERE gset = 'hangup' AND ans GROUP BY ALL ORDER BY ALL;

-- name: hours
-- Counts are never null: an hour without an answered call has answered = 0.
SELECT day, direction, local_hour, sum(n) AS calls, coalesce(sum(n) FILTER (WHERE ans), 0) AS answered
FROM scoped WHERE gset = 'hour' GROUP BY ALL ORDER BY ALL;

-- name: campaigns
-- Outbound only (campaign is null for inbound rows). '' = no campaign.
SELECT day, campaign,
       sum(n)                                        AS outbound_calls,
       coalesce(sum(n) FILTER (WHERE outside AND ans), 0)     AS outside_answered,
       coalesce(sum(n) FILTER (WHERE outside AND NOT ans), 0) AS outside_unanswered,
       -- CLIs outside the 140xx / 1600 / 1601 series ($series_re); a missing CLI counts as outside.
       coalesce(sum(n) FILTER (WHERE NOT coalesce(regexp_matches(out_cli, $series_re), false)), 0) AS not_series
FROM scoped WHERE gset = 'campaign' AND direction = 'all' AND campaign IS NOT NULL
GROUP BY ALL ORDER BY ALL;

-- name: ucc
-- Per outbound CLI: volume, answered calls under the short threshold, inbound calls to the same number.
WITH o AS (
    SELECT day, out_cli AS cli, sum(n) AS outbound_calls, coalesce(sum(n) FILTER (WHERE ans), 0) AS answered,
           coalesce(sum(short_answered), 0) AS short_answered
    FROM scoped WHERE gset = 'campaign' AND direction = 'all' AND out_cli IS NOT NULL GROUP BY ALL
), i AS (
    SELECT day, in_did AS cli, sum(n) AS inbound_calls
    FROM scoped WHERE gset = 'did' AND direction = 'all' AND in_did IS NOT NULL GROUP BY ALL
)
SELECT o.day, o.cli, o.outbound_calls, o.answered, o.short_answered,
       o.short_answered / nullif(o.answered, 0)        AS short_answered_share,
       coalesce(i.inbound_calls, 0)                    AS inbound_calls,
       coalesce(i.inbound_calls, 0) / o.outbound_calls AS in_out_ratio
FROM o LEFT JOIN i USING (day, cli)
ORDER BY o.day, o.outbound_calls DESC, o.cli;

-- name: cost
SELECT day, trunk, region, sum(n) AS calls, sum(answered) AS answered, sum(billsec_sum) AS billsec_sum,
       sum(cost_sum) AS cost, sum(total_cost_sum) AS total_cost, sum(streaming_cost_sum) AS streaming_cost,
       sum(total_cost_sum) / nullif(sum(billsec_sum) / 60.0, 0) AS total_cost_per_answered_minute
FROM scoped WHERE gset = 'cost' AND direction = 'all' GROUP BY ALL ORDER BY ALL;
