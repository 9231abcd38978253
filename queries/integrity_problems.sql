-- Rows that cite a patient, source or parameter the store does not have: one row per kind of
-- problem with its count; an empty result means the store is consistent.
WITH patient_rows AS (
    SELECT patient_id, source_id FROM observations
    UNION ALL SELECT patient_id, source_id FROM other_observations
    UNION ALL SELECT patient_id, source_id FROM events
    UNION ALL SELECT patient_id, source_id FROM adverse_events
    UNION ALL SELECT patient_id, source_id FROM imaging
    UNION ALL SELECT patient_id, source_id FROM reported_findings
),
problems AS (
    SELECT 'rows for an unknown patient' AS problem, count(*) AS n
    FROM patient_rows r ANTI JOIN patients p USING (patient_id)
    UNION ALL
    SELECT 'rows citing an unknown source', count(*)
    FROM (SELECT source_id FROM patient_rows UNION ALL SELECT source_id FROM patients) r
    ANTI JOIN sources s USING (source_id)
    UNION ALL
    SELECT 'observations of an unknown parameter', count(*)
    FROM observations o ANTI JOIN parameters p USING (code)
    UNION ALL
    SELECT 'observations in another unit than the dictionary''s', count(*)
    FROM observations o JOIN parameters p USING (code)
    WHERE o.unit <> p.unit
)
SELECT problem, n FROM problems WHERE n > 0 ORDER BY problem
