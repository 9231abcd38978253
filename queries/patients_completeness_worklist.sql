-- The overdue and missing cells of the follow-up completeness grid for the patients in
-- $patients (table follow_up_completeness), oldest visit first, with each patient's source and
-- its kind: the completeness page's worklist.
-- access: patient
SELECT c.*, p.source_id, s.kind AS source_kind
FROM follow_up_completeness c
JOIN patients p USING (patient_id)
JOIN sources s ON s.source_id = p.source_id
WHERE list_contains($patients, c.patient_id) AND c.status IN ('overdue', 'missing')
ORDER BY c.visit_sort, c.patient_id, c.measure_group
