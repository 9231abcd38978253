-- The infections of $patients (adverse events whose term is in the category Infection of
-- ae_categories, grade 1 or more, or reported with a severity and no grade), with type (the
-- term), grade or severity, day and site.
WITH chosen AS (
    SELECT unnest($patients) AS patient_id
),
categorised AS (
    SELECT a.*,
        (SELECT c.category FROM ae_categories c
         WHERE regexp_matches(lower(a.term), c.pattern)
         ORDER BY c.priority LIMIT 1) AS category
    FROM adverse_events a
    JOIN chosen USING (patient_id)
)
SELECT i.patient_id, i.term, i.grade, i.severity, i.onset_day, i.end_day, i.serious,
    i.treatment, i.organ, s.kind AS source_kind
FROM categorised i
JOIN sources s USING (source_id)
WHERE i.category = 'Infection' AND (i.grade > 0 OR (i.grade IS NULL AND i.severity IS NOT NULL))
ORDER BY i.onset_day NULLS LAST, i.patient_id, i.term
