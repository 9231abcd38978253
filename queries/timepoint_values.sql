-- The value of each parameter at each visit window, for every patient: inside the window
-- [day_from, day_to] of `timepoints`, the blood value closest to the window's nominal day; on a
-- tie, the earlier day (docs/rules.md, "Value at a timepoint"). Results reported without a number
-- ('not_detected') have no value to compare and are left out.
WITH closest AS (
    SELECT
        o.patient_id,
        t.name AS timepoint,
        any_value(t.nominal_day) AS nominal_day,
        any_value(t.sort) AS timepoint_sort,
        o.code,
        -- Smallest distance to the nominal day first, then the earlier day.
        arg_min(
            {
                'day': o.day,
                'value': o.value,
                'unit': o.unit,
                'qualifier': o.qualifier,
                'ref_high': coalesce(o.ref_high, m.ref_high),
                'source_id': o.source_id
            },
            [abs(o.day - t.nominal_day), o.day]
        ) AS chosen
    FROM observations o
    JOIN timepoints t ON o.day BETWEEN t.day_from AND t.day_to
    JOIN parameters m USING (code)
    WHERE o.specimen = 'blood' AND o.value IS NOT NULL
    GROUP BY o.patient_id, t.name, o.code
)
SELECT patient_id, timepoint, nominal_day, timepoint_sort, code, chosen.*
FROM closest
