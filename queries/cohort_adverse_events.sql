-- Adverse-event incidence for $patients, as a trial's safety table: per term, the number of
-- patients by their worst grade (grade 0, reported as not observed, is no event; an event the
-- source reports with a severity and no grade counts, as not graded), with the
-- grading systems used. Besides the events as the source graded them, toxicity graded from the
-- counts: per CTCAE lab term the worst treatment-emergent grade (after the infusion and worse than
-- the patient's baseline grade, table lab_toxicity), and ICAHT and T-ICAHT early and late
-- (table patient_hematotox); patients_on_default_range counts the patients whose counted grade
-- rests on the dictionary's default reference range. The denominator is the number of patients
-- in $patients.
WITH chosen AS (
    SELECT unnest($patients) AS patient_id
),
graded AS (
    SELECT a.patient_id, a.term, a.grade, a.grading_system AS systems, false AS range_default,
        a.grade IS NULL AND a.severity IS NOT NULL AS ungraded
    FROM adverse_events a JOIN chosen USING (patient_id)
    UNION ALL
    SELECT t.patient_id, t.term || ' (from counts, treatment-emergent)', t.emergent_grade,
        'CTCAE v5.0', t.range_default, false
    FROM lab_toxicity t JOIN chosen USING (patient_id)
    UNION ALL
    SELECT patient_id, term, grade,
        CASE WHEN starts_with(term, 'ICAHT') THEN 'EHA/EBMT 2023' ELSE 'Rejeski 2025' END,
        false, false
    FROM (
        UNPIVOT (
            SELECT h.patient_id, h.icaht_early_grade, h.icaht_late_grade,
                h.t_icaht_early_grade, h.t_icaht_late_grade
            FROM patient_hematotox h JOIN chosen USING (patient_id)
        )
        ON icaht_early_grade AS 'ICAHT early, days 0-30 (from counts)',
            icaht_late_grade AS 'ICAHT late, after day 30 (from counts)',
            t_icaht_early_grade AS 'T-ICAHT early, days 0-30 (from counts)',
            t_icaht_late_grade AS 'T-ICAHT late, days 31-100 (from counts)'
        INTO NAME term VALUE grade
    )
),
worst AS (
    SELECT patient_id, term, max(grade) AS grade, list(DISTINCT systems) AS systems,
        bool_or(range_default) AS range_default
    FROM graded
    WHERE grade > 0 OR ungraded
    GROUP BY patient_id, term
)
SELECT term,
    count(*) AS patients_any_grade,
    count(*) FILTER (WHERE grade = 1) AS grade_1,
    count(*) FILTER (WHERE grade = 2) AS grade_2,
    count(*) FILTER (WHERE grade = 3) AS grade_3,
    count(*) FILTER (WHERE grade = 4) AS grade_4,
    count(*) FILTER (WHERE grade = 5) AS grade_5,
    count(*) FILTER (WHERE grade >= 3) AS grade_3_or_more,
    count(*) FILTER (WHERE grade IS NULL) AS not_graded_severity_only,
    -- Sorted, so that the same rows give the same text on every backend and every run.
    array_to_string(list_sort(list_distinct(flatten(list(systems)))), ', ') AS grading_systems,
    count(*) FILTER (WHERE range_default) AS patients_on_default_range
FROM worst
GROUP BY term
ORDER BY patients_any_grade DESC, term
