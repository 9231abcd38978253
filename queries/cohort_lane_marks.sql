-- What a swimmer lane marks, for $patients: the infusion, CRS and ICANS (the categories of
-- ae_categories, the same as the safety view's) with grade and onset, and the last contact (the
-- follow-up length). A day not reported stays NULL: the lane lists it, it is never placed.
SELECT e.patient_id, 'infusion' AS mark, e.start_day AS day, NULL::INTEGER AS end_day,
    NULL::INTEGER AS grade
FROM events e
WHERE e.kind = 'infusion' AND e.patient_id IN (SELECT unnest($patients))
UNION ALL
SELECT patient_id, category, onset_day, end_day, grade
FROM (
    SELECT a.patient_id, a.onset_day, a.end_day, a.grade,
        (SELECT c.category FROM ae_categories c WHERE regexp_matches(lower(a.term), c.pattern)
         ORDER BY c.priority LIMIT 1) AS category
    FROM adverse_events a
    WHERE a.grade > 0 AND a.patient_id IN (SELECT unnest($patients))
)
WHERE category IN ('CRS', 'ICANS')
UNION ALL
SELECT p.patient_id, 'last contact', p.follow_up_days, NULL, NULL
FROM patients p
WHERE p.patient_id IN (SELECT unnest($patients))
ORDER BY patient_id, day NULLS LAST
