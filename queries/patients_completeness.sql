-- The follow-up completeness grid of the patients in $patients (table follow_up_completeness),
-- with each patient's source and its kind.
-- access: patient
SELECT c.*, p.source_id, s.kind AS source_kind
FROM follow_up_completeness c
JOIN patients p USING (patient_id)
JOIN sources s ON s.source_id = p.source_id
WHERE list_contains($patients, c.patient_id)
ORDER BY c.patient_id, c.visit_sort, c.measure_group
