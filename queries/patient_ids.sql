-- Patient ids for choosing a patient, published cases first: those containing $search
-- (case-insensitive; '' for all), at most $max_rows of them.
-- access: patient
SELECT p.patient_id
FROM patients p
JOIN sources s USING (source_id)
WHERE $search = '' OR contains(lower(p.patient_id), lower($search))
ORDER BY CASE s.kind WHEN 'published' THEN 0 WHEN 'site' THEN 1 ELSE 2 END, p.patient_id
LIMIT $max_rows
