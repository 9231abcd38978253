-- Every patient id, published cases first, for choosing a patient.
SELECT p.patient_id
FROM patients p
JOIN sources s USING (source_id)
ORDER BY CASE s.kind WHEN 'published' THEN 0 WHEN 'site' THEN 1 ELSE 2 END, p.patient_id
