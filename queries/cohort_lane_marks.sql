-- What a swimmer lane marks, for $patients: the infusion, CRS and ICANS (term matched as the
-- published case and the generator name them) with grade and onset, and the last contact (the
-- follow-up length). A day not reported stays NULL: the lane lists it, it is never placed.
SELECT e.patient_id, 'infusion' AS mark, e.start_day AS day, NULL::INTEGER AS end_day,
    NULL::INTEGER AS grade
FROM events e
WHERE e.kind = 'infusion' AND e.patient_id IN (SELECT unnest($patients))
UNION ALL
SELECT a.patient_id,
    CASE WHEN a.term ILIKE 'cytokine release%' THEN 'CRS' ELSE 'ICANS' END,
    a.onset_day, a.end_day, a.grade
FROM adverse_events a
WHERE (a.term ILIKE 'cytokine release%' OR a.term ILIKE '%neurotoxicity%'
        OR a.term ILIKE '%ICANS%')
    AND a.grade > 0
    AND a.patient_id IN (SELECT unnest($patients))
UNION ALL
SELECT p.patient_id, 'last contact', p.follow_up_days, NULL, NULL
FROM patients p
WHERE p.patient_id IN (SELECT unnest($patients))
ORDER BY patient_id, day NULLS LAST
