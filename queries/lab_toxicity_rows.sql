-- Treatment-emergent lab toxicity per patient and parameter, from the blood rows of lab_grades
-- (docs/rules.md, "Treatment-emergent toxicity"; a design rule of this project): a grade counts
-- when it is on study day >= 1 (after the infusion) and above the patient's baseline grade (the
-- grade of the pre-treatment baseline value; none counts as 0). emergent_grade is 0 when graded
-- values after the infusion exist and none is worse; NULL when there is none.
WITH graded AS (
    SELECT * FROM lab_grades WHERE specimen = 'blood'
),
base AS (
    SELECT patient_id, code, any_value(term) AS term, any_value(baseline_day) AS baseline_day,
        max(grade) FILTER (WHERE day = baseline_day) AS baseline_grade,
        bool_or(range_default) AS range_default
    FROM graded
    GROUP BY patient_id, code
),
after AS (
    SELECT g.patient_id, g.code, g.day, g.grade, g.grade > coalesce(b.baseline_grade, 0) AS worse
    FROM graded g
    JOIN base b USING (patient_id, code)
    WHERE g.day >= 1 AND g.grade IS NOT NULL
)
SELECT b.patient_id, b.code, b.term, b.baseline_day, b.baseline_grade,
    max(a.grade) AS worst_grade,
    arg_min(a.day, [-a.grade, a.day]) AS worst_day,
    CASE WHEN count(a.grade) > 0
        THEN coalesce(max(a.grade) FILTER (WHERE a.worse), 0) END AS emergent_grade,
    arg_min(a.day, [-a.grade, a.day]) FILTER (WHERE a.worse) AS emergent_day,
    count(a.grade) AS n_graded_after,
    b.range_default
FROM base b
LEFT JOIN after a USING (patient_id, code)
GROUP BY b.patient_id, b.code, b.term, b.baseline_day, b.baseline_grade, b.range_default
ORDER BY b.patient_id, b.code
