-- One patient's imaging findings, one row per exam day, region, side and finding.
-- access: patient
SELECT
    i.day,
    i.modality,
    i.sequence,
    i.region,
    i.side,
    i.finding,
    i.grade,
    i.scale,
    i.summary,
    i.source_id,
    s.kind AS source_kind
FROM imaging i
JOIN sources s ON s.source_id = i.source_id
WHERE i.patient_id = $patient_id
ORDER BY i.day, i.region, i.side, i.finding
