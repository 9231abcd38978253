-- Every data-quality finding of this store version (table quality_findings), with the source of
-- its patient: what `python -m carta quality` prints.
-- access: patient
SELECT q.category, q.check_name, p.source_id, q.patient_id, q.visit, q.code, q.day, q.detail
FROM quality_findings q
LEFT JOIN patients p USING (patient_id)
ORDER BY q.category, q.check_name, p.source_id, q.patient_id, q.day NULLS FIRST
