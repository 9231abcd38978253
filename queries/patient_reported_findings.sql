-- Findings a source states in words without numbers, for one patient.
-- access: patient
SELECT
    f.day,
    f.timing,
    f.domains,
    f.statement,
    f.source_id,
    s.kind AS source_kind,
    s.citation AS source_citation
FROM reported_findings f
JOIN sources s ON s.source_id = f.source_id
WHERE f.patient_id = $patient_id
ORDER BY f.day NULLS FIRST, f.rowid
