-- The rows of lab_grades for patients $first_patient to $last_patient (by id): every dated result
-- of the parameters $cuts grades, graded by CTCAE v5.0 (NCI CTCAE v5.0 (2017), as transcribed in
-- pharmaverse/admiral ncictcaev5.json; clinical-rules §4.1). $cuts is the criteria of
-- carta/measures/ctcae.py as ctcae.cut_rows() lists them, a cut a row, most severe first
-- (`rank`, at most four a set) within each set. The walk is the module's, and the tests hold the
-- two to the same grades: the first cut a value meets sets the grade, a cut whose limit is
-- missing ends the walk ungraded (NULL), a value that meets no cut is grade 0; values and
-- thresholds are rounded to 8 significant digits before they are compared (R's signif, as
-- admiral does); a value reported beyond an assay limit compares as one just beyond it, and not
-- detected as 0.
-- Each result keeps its reference limits or the dictionary's defaults (range_default: the limit
-- the grade rests on came from the dictionary) and the patient's pre-treatment baseline of the
-- same parameter and specimen: the last value before the first dated lymphodepletion day and on
-- or before day 0 (a lymphodepletion dated after the infusion does not move the baseline past
-- day 0; docs/rules.md, "Treatment-emergent toxicity"). An ALT or AST baseline above the ULN
-- grades against multiples of the baseline. The publish grades a registry a batch of patients at
-- a time, so that memory stays bounded.
WITH cuts AS (
    SELECT unnest($cuts, recursive := true)
),
criteria AS (
    SELECT code, any_value(term) AS term, any_value(needs) AS needs,
        bool_or(on_abnormal_baseline) AS has_baseline_cuts
    FROM cuts
    GROUP BY code
),
cut_sets AS (
    -- A row per parameter and set, its cuts side by side: every result is graded in one pass.
    SELECT code, on_abnormal_baseline,
        max(grade) FILTER (WHERE rank = 1) AS grade_1, max(op) FILTER (WHERE rank = 1) AS op_1,
        max(factor) FILTER (WHERE rank = 1) AS factor_1,
        max(against) FILTER (WHERE rank = 1) AS against_1,
        max(grade) FILTER (WHERE rank = 2) AS grade_2, max(op) FILTER (WHERE rank = 2) AS op_2,
        max(factor) FILTER (WHERE rank = 2) AS factor_2,
        max(against) FILTER (WHERE rank = 2) AS against_2,
        max(grade) FILTER (WHERE rank = 3) AS grade_3, max(op) FILTER (WHERE rank = 3) AS op_3,
        max(factor) FILTER (WHERE rank = 3) AS factor_3,
        max(against) FILTER (WHERE rank = 3) AS against_3,
        max(grade) FILTER (WHERE rank = 4) AS grade_4, max(op) FILTER (WHERE rank = 4) AS op_4,
        max(factor) FILTER (WHERE rank = 4) AS factor_4,
        max(against) FILTER (WHERE rank = 4) AS against_4
    FROM cuts
    GROUP BY code, on_abnormal_baseline
),
treatment AS (
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
    WHERE o.code IN (SELECT code FROM criteria) AND o.day IS NOT NULL
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
),
inputs AS (
    SELECT r.patient_id, r.day, r.code, r.specimen, r.value, r.qualifier, r.ref_low, r.ref_high,
        r.range_default, b.baseline_day, b.baseline, c.term, c.has_baseline_cuts,
        CASE c.needs WHEN 'LLN' THEN r.ref_low IS NOT NULL WHEN 'ULN' THEN r.ref_high IS NOT NULL
            WHEN 'BASE' THEN b.baseline IS NOT NULL ELSE true END AS gradable,
        CASE WHEN r.qualifier = 'not_detected' THEN 0.0 ELSE r.value END AS graded_value,
        -- Beyond an assay limit: where the value equals a threshold, '<' x lies below it and
        -- '>' x above it.
        CASE r.qualifier WHEN '<' THEN -1 WHEN '>' THEN 1 ELSE 0 END AS beyond
    FROM results r
    JOIN baseline b USING (patient_id, code, specimen)
    JOIN criteria c USING (code)
),
-- Rounded to 8 significant digits as carta.measures.numbers.signif rounds: scaled by
-- 10^(7 - floor(log10 |x|)), rounded half to even and scaled back; 0, and a magnitude whose scale
-- would overflow (below 1e-301), have no scale and stay as they are.
rounded AS (
    SELECT *,
        coalesce(round_even(graded_value * scale_value, 0) / scale_value, graded_value) AS x,
        coalesce(has_baseline_cuts
            AND coalesce(round_even(baseline * scale_baseline, 0) / scale_baseline, baseline)
                > coalesce(round_even(ref_high * scale_uln, 0) / scale_uln, ref_high), false)
            AS abnormal_baseline
    FROM (
        SELECT *,
            CASE WHEN abs(graded_value) >= 1e-301
                THEN pow(10, 7 - floor(log10(abs(graded_value)))) END AS scale_value,
            CASE WHEN abs(baseline) >= 1e-301
                THEN pow(10, 7 - floor(log10(abs(baseline)))) END AS scale_baseline,
            CASE WHEN abs(ref_high) >= 1e-301
                THEN pow(10, 7 - floor(log10(abs(ref_high)))) END AS scale_uln
        FROM inputs
    )
),
thresholds AS (
    -- Each result beside the cuts of its set: for ALT and AST with a baseline above the ULN
    -- those of an abnormal baseline, else the usual ones.
    SELECT r.*, k.grade_1, k.op_1, k.grade_2, k.op_2, k.grade_3, k.op_3, k.grade_4, k.op_4,
        k.factor_1 * CASE k.against_1 WHEN 'abs' THEN 1.0 WHEN 'LLN' THEN r.ref_low
            WHEN 'ULN' THEN r.ref_high WHEN 'BASE' THEN r.baseline END AS threshold_1,
        k.factor_2 * CASE k.against_2 WHEN 'abs' THEN 1.0 WHEN 'LLN' THEN r.ref_low
            WHEN 'ULN' THEN r.ref_high WHEN 'BASE' THEN r.baseline END AS threshold_2,
        k.factor_3 * CASE k.against_3 WHEN 'abs' THEN 1.0 WHEN 'LLN' THEN r.ref_low
            WHEN 'ULN' THEN r.ref_high WHEN 'BASE' THEN r.baseline END AS threshold_3,
        k.factor_4 * CASE k.against_4 WHEN 'abs' THEN 1.0 WHEN 'LLN' THEN r.ref_low
            WHEN 'ULN' THEN r.ref_high WHEN 'BASE' THEN r.baseline END AS threshold_4
    FROM rounded r
    JOIN cut_sets k ON k.code = r.code AND k.on_abnormal_baseline = r.abnormal_baseline
),
compared AS (
    -- Per cut: the sign of (value - threshold), both rounded, with a value beyond an assay limit
    -- just beyond it; NULL where the threshold's limit is missing.
    SELECT *,
        CASE WHEN t_1 IS NULL THEN NULL WHEN x < t_1 THEN -1 WHEN x > t_1 THEN 1 ELSE beyond END
            AS d_1,
        CASE WHEN t_2 IS NULL THEN NULL WHEN x < t_2 THEN -1 WHEN x > t_2 THEN 1 ELSE beyond END
            AS d_2,
        CASE WHEN t_3 IS NULL THEN NULL WHEN x < t_3 THEN -1 WHEN x > t_3 THEN 1 ELSE beyond END
            AS d_3,
        CASE WHEN t_4 IS NULL THEN NULL WHEN x < t_4 THEN -1 WHEN x > t_4 THEN 1 ELSE beyond END
            AS d_4
    FROM (
        SELECT *,
            coalesce(round_even(threshold_1 * scale_1, 0) / scale_1, threshold_1) AS t_1,
            coalesce(round_even(threshold_2 * scale_2, 0) / scale_2, threshold_2) AS t_2,
            coalesce(round_even(threshold_3 * scale_3, 0) / scale_3, threshold_3) AS t_3,
            coalesce(round_even(threshold_4 * scale_4, 0) / scale_4, threshold_4) AS t_4
        FROM (
            SELECT *,
                CASE WHEN abs(threshold_1) >= 1e-301
                    THEN pow(10, 7 - floor(log10(abs(threshold_1)))) END AS scale_1,
                CASE WHEN abs(threshold_2) >= 1e-301
                    THEN pow(10, 7 - floor(log10(abs(threshold_2)))) END AS scale_2,
                CASE WHEN abs(threshold_3) >= 1e-301
                    THEN pow(10, 7 - floor(log10(abs(threshold_3)))) END AS scale_3,
                CASE WHEN abs(threshold_4) >= 1e-301
                    THEN pow(10, 7 - floor(log10(abs(threshold_4)))) END AS scale_4
            FROM thresholds
        )
    )
)
-- The walk, most severe cut first: no cut left is grade 0, a missing limit ends it ungraded.
SELECT patient_id, day, code, specimen, value, qualifier, ref_low, ref_high, range_default,
    baseline_day, baseline, term,
    CASE WHEN NOT gradable THEN NULL
        WHEN grade_1 IS NULL THEN 0
        WHEN d_1 IS NULL THEN NULL
        WHEN CASE op_1 WHEN '<' THEN d_1 < 0 WHEN '>' THEN d_1 > 0 ELSE d_1 >= 0 END
            THEN grade_1
        WHEN grade_2 IS NULL THEN 0
        WHEN d_2 IS NULL THEN NULL
        WHEN CASE op_2 WHEN '<' THEN d_2 < 0 WHEN '>' THEN d_2 > 0 ELSE d_2 >= 0 END
            THEN grade_2
        WHEN grade_3 IS NULL THEN 0
        WHEN d_3 IS NULL THEN NULL
        WHEN CASE op_3 WHEN '<' THEN d_3 < 0 WHEN '>' THEN d_3 > 0 ELSE d_3 >= 0 END
            THEN grade_3
        WHEN grade_4 IS NULL THEN 0
        WHEN d_4 IS NULL THEN NULL
        WHEN CASE op_4 WHEN '<' THEN d_4 < 0 WHEN '>' THEN d_4 > 0 ELSE d_4 >= 0 END
            THEN grade_4
        ELSE 0
    END AS grade
FROM compared
