-- Every dated observation of the parameters in $codes (the CTCAE-gradable ones), with the result's
-- reference limits or the dictionary's defaults (range_default: the limit the grade rests on came
-- from the dictionary) and the patient's pre-treatment baseline of the same parameter and specimen:
-- the last value before the first dated lymphodepletion day and on or before day 0 (a
-- lymphodepletion dated after the infusion does not move the baseline past day 0; docs/rules.md,
-- "Treatment-emergent toxicity"). Patients $first_patient to $last_patient (by id) only: the
-- publish grades a registry a batch of patients at a time, so that memory stays bounded.
WITH treatment AS (
    SELECT patient_id, min(start_day) AS first_day
    FROM events
    WHERE kind = 'lymphodepletion' AND start_day IS NOT NULL
        AND patient_id BETWEEN $first_patient AND $last_patient
    GROUP BY patient_id
),
results AS (
    SELECT
        o.patient_id, o.day, o.code, o.specimen, o.value, o.qualifier,
        coalesce(o.ref_low, m.ref_low) AS ref_low,
        coalesce(o.ref_high, m.ref_high) AS ref_high,
        CASE WHEN m.better = 'higher' THEN o.ref_low IS NULL AND m.ref_low IS NOT NULL
             ELSE o.ref_high IS NULL AND m.ref_high IS NOT NULL END AS range_default,
        coalesce(o.day < t.first_day, true) AND o.day <= 0 AS pre_treatment
    FROM observations o
    JOIN parameters m USING (code)
    LEFT JOIN treatment t USING (patient_id)
    WHERE list_contains($codes, o.code) AND o.day IS NOT NULL
        AND o.patient_id BETWEEN $first_patient AND $last_patient
        AND (o.value IS NOT NULL OR o.qualifier = 'not_detected')
),
baseline AS (
    -- One row per patient, parameter and specimen: a day has one value of each (import checks).
    SELECT patient_id, code, specimen,
        max(day) FILTER (WHERE pre_treatment) AS baseline_day,
        -- Not detected counts as 0, so that the day and the value come from one row.
        arg_max(coalesce(value, 0), day) FILTER (WHERE pre_treatment) AS baseline
    FROM results
    GROUP BY patient_id, code, specimen
)
SELECT r.patient_id, r.day, r.code, r.specimen, r.value, r.qualifier, r.ref_low, r.ref_high,
    r.range_default, b.baseline_day, b.baseline
FROM results r
JOIN baseline b USING (patient_id, code, specimen)
