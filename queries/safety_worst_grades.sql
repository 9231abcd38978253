-- Per patient of $patients and safety category, the worst grade: adverse events by the category
-- of their term (table ae_categories: the first pattern by priority that matches the lower-case
-- term) and the early and late ICAHT and T-ICAHT grades of patient_hematotox. Grade 0 (assessed and not
-- observed) is kept: the page counts it as no event. ungraded: the patient has an event of the
-- category that the source reports with a severity and no grade.
WITH chosen AS (
    SELECT unnest($patients) AS patient_id
),
categorised AS (
    SELECT a.patient_id, a.grade, a.grade IS NULL AND a.severity IS NOT NULL AS ungraded,
        (SELECT c.category FROM ae_categories c
         WHERE regexp_matches(lower(a.term), c.pattern)
         ORDER BY c.priority LIMIT 1) AS category
    FROM adverse_events a
    JOIN chosen USING (patient_id)
),
graded AS (
    SELECT patient_id, category, grade, ungraded FROM categorised
    UNION ALL
    -- UNPIVOT leaves out the grades that are NULL (not evaluable).
    SELECT patient_id, category, grade, false
    FROM (
        UNPIVOT (
            SELECT h.patient_id, h.icaht_early_grade, h.icaht_late_grade,
                h.t_icaht_early_grade, h.t_icaht_late_grade
            FROM patient_hematotox h JOIN chosen USING (patient_id)
        )
        ON icaht_early_grade AS 'ICAHT', icaht_late_grade AS 'ICAHT late',
            t_icaht_early_grade AS 'T-ICAHT', t_icaht_late_grade AS 'T-ICAHT late'
        INTO NAME category VALUE grade
    )
)
SELECT patient_id, category, max(grade) AS grade, bool_or(ungraded) AS ungraded
FROM graded
GROUP BY patient_id, category
ORDER BY category, patient_id
