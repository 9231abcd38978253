-- One patient's descriptive row with its source; empty when the id is unknown.
-- access: patient
SELECT
    p.*,
    s.kind AS source_kind,
    s.citation AS source_citation,
    s.doi AS source_doi,
    s.data_cut AS source_data_cut,
    s.note AS source_note
FROM patients p
JOIN sources s USING (source_id)
WHERE p.patient_id = $patient_id
