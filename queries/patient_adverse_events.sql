-- One patient's adverse events; grade 0 records an event the source reports as not observed, and a
-- NULL onset_day one reported without its day, and a NULL grade with a severity one the source
-- did not grade. category: the safety category of the term (table ae_categories).
-- access: patient
SELECT
    a.term,
    a.grade,
    a.grading_system,
    a.severity,
    a.onset_day,
    a.end_day,
    a.serious,
    a.treatment,
    a.organ,
    a.onset_earliest,
    a.onset_latest,
    a.onset_precision,
    a.source_id,
    s.kind AS source_kind,
    a.note,
    (SELECT c.category FROM ae_categories c WHERE regexp_matches(lower(a.term), c.pattern)
     ORDER BY c.priority LIMIT 1) AS category
FROM adverse_events a
JOIN sources s ON s.source_id = a.source_id
WHERE a.patient_id = $patient_id
ORDER BY a.onset_day NULLS FIRST, a.grade DESC NULLS LAST, a.term
