-- The rows of cohort_values_at_timepoints.sql at the store's own visit windows, read from table
-- timepoint_values (the same rule, run at publish with those windows) instead of computed again
-- from the observations: for each parameter in $codes and patient in $patients, the value at each
-- window with BASE (the value at the first window, on the same scale), CHG and PCHG (missing when
-- BASE is 0; ADaM BDS, clinical-rules §6.2).
WITH valued AS (
    SELECT patient_id, timepoint, timepoint_sort, nominal_day, code, day, value, unit, qualifier,
        ref_low, ref_high, scale_max, source_id,
        max(value) FILTER (WHERE timepoint_sort = 1)
            OVER (PARTITION BY patient_id, code, scale_max) AS base
    FROM timepoint_values
    WHERE list_contains($codes, code) AND patient_id IN (SELECT unnest($patients))
)
SELECT patient_id, timepoint, timepoint_sort, nominal_day, code, day, value, unit, qualifier,
    ref_low, ref_high, scale_max, source_id, base,
    value - base AS chg,
    CASE WHEN base <> 0 THEN (value - base) / abs(base) * 100 END AS pchg
FROM valued
ORDER BY patient_id, code, timepoint_sort
