-- The value of each parameter in $codes at each visit window of $windows (a list of {name,
-- nominal_day, day_from, day_to} in display order; the first is the baseline) for the patients in
-- $patients. Inside a window: the blood value closest to its nominal day, on a tie the earlier day
-- (docs/rules.md, "Value at a timepoint", the rule of table timepoint_values with the view's own
-- windows). BASE is the value at the first window; CHG = AVAL - BASE and PCHG = CHG / |BASE| x 100,
-- missing when BASE is 0 (ADaM BDS, clinical-rules §6.2), and missing when the two values are on
-- different scales (MMT8 of 80 and of 150: scale_max).
WITH windows AS (
    SELECT w.name AS timepoint, w.nominal_day, w.day_from, w.day_to, position AS timepoint_sort
    FROM (SELECT unnest($windows) AS w, generate_subscripts($windows, 1) AS position)
),
closest AS (
    SELECT
        o.patient_id,
        w.timepoint,
        any_value(w.timepoint_sort) AS timepoint_sort,
        any_value(w.nominal_day) AS nominal_day,
        o.code,
        arg_min(
            {
                'day': o.day,
                'value': o.value,
                'unit': o.unit,
                'qualifier': o.qualifier,
                'ref_low': coalesce(o.ref_low, m.ref_low),
                'ref_high': coalesce(o.ref_high, m.ref_high),
                'scale_max': o.scale_max,
                'source_id': o.source_id
            },
            -- (distance, day) as one number, which orders as the pair does while |day| is
            -- under 500,000 (data/reference/column_bounds.csv keeps days within -3,650 to
            -- 36,500): a number is a quicker key than a list.
            CAST(abs(o.day - w.nominal_day) AS BIGINT) * 1000000 + o.day
        ) AS chosen
    FROM observations o
    JOIN windows w ON o.day BETWEEN w.day_from AND w.day_to
    JOIN parameters m USING (code)
    WHERE o.specimen = 'blood' AND o.value IS NOT NULL
        AND list_contains($codes, o.code)
        AND o.patient_id IN (SELECT unnest($patients))
        -- Their range as well, which a scan can skip row groups by: the publish asks for a batch
        -- of consecutive ids at a time (at 100,000 patients, 0.59 s a batch instead of 1.16 s).
        AND o.patient_id BETWEEN list_min($patients) AND list_max($patients)
    GROUP BY o.patient_id, w.timepoint, o.code
),
valued AS (
    SELECT patient_id, timepoint, timepoint_sort, nominal_day, code, chosen.*,
        max(chosen.value) FILTER (WHERE timepoint_sort = 1)
            OVER (PARTITION BY patient_id, code, chosen.scale_max) AS base
    FROM closest
)
SELECT patient_id, timepoint, timepoint_sort, nominal_day, code, day, value, unit, qualifier,
    ref_low, ref_high, scale_max, source_id, base,
    value - base AS chg,
    CASE WHEN base <> 0 THEN (value - base) / abs(base) * 100 END AS pchg
FROM valued
ORDER BY patient_id, code, timepoint_sort
