-- Toxicity graded from the counts for $patients, in the columns of cohort_adverse_events: per CTCAE
-- lab term the patients by their worst treatment-emergent grade (after the infusion and worse
-- than their own baseline grade, table lab_toxicity), and early ICAHT and T-ICAHT (days 0-30,
-- table patient_hematotox). Grade 0 is no event.
WITH chosen AS (
    SELECT unnest($patients) AS patient_id
),
worst AS (
    SELECT t.patient_id, t.term || ' (from counts, treatment-emergent)' AS term,
        t.emergent_grade AS grade, 'CTCAE v5.0' AS systems
    FROM lab_toxicity t JOIN chosen USING (patient_id)
    WHERE t.emergent_grade > 0
    UNION ALL
    SELECT h.patient_id, 'ICAHT early, days 0-30 (from counts)', h.icaht_early_grade,
        'EHA/EBMT 2023'
    FROM patient_hematotox h JOIN chosen USING (patient_id)
    WHERE h.icaht_early_grade > 0
    UNION ALL
    SELECT h.patient_id, 'T-ICAHT early, days 0-30 (from counts)', h.t_icaht_early_grade,
        'Rejeski 2025'
    FROM patient_hematotox h JOIN chosen USING (patient_id)
    WHERE h.t_icaht_early_grade > 0
)
SELECT term,
    count(*) AS patients_any_grade,
    count(*) FILTER (WHERE grade = 1) AS grade_1,
    count(*) FILTER (WHERE grade = 2) AS grade_2,
    count(*) FILTER (WHERE grade = 3) AS grade_3,
    count(*) FILTER (WHERE grade = 4) AS grade_4,
    count(*) FILTER (WHERE grade = 5) AS grade_5,
    count(*) FILTER (WHERE grade >= 3) AS grade_3_or_more,
    string_agg(DISTINCT systems, ', ') AS grading_systems
FROM worst
GROUP BY term
ORDER BY patients_any_grade DESC, term
