-- Every graded adverse event (grade 0, assessed and not observed, included; a severity without a
-- grade is left out) with its safety category (table ae_categories: the first pattern by
-- priority that matches the lower-case term) as `code` and its onset day as `day` (NULL when
-- undated): the adverse-event groups of the completeness grid (carta/measures/completeness.py).
SELECT DISTINCT a.patient_id,
    (SELECT c.category FROM ae_categories c
     WHERE regexp_matches(lower(a.term), c.pattern)
     ORDER BY c.priority LIMIT 1) AS code,
    a.onset_day AS day
FROM adverse_events a
WHERE a.grade IS NOT NULL
ORDER BY a.patient_id, code, day NULLS FIRST
