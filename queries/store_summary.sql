-- Patients and observations per kind of source, for the home page and the sidebar.
WITH per_kind AS (
    SELECT s.kind, count(DISTINCT p.patient_id) AS patients
    FROM sources s
    LEFT JOIN patients p USING (source_id)
    GROUP BY s.kind
)
SELECT
    k.kind AS source_kind,
    k.patients,
    (SELECT count(*) FROM observations o JOIN sources s USING (source_id) WHERE s.kind = k.kind)
        AS observations
FROM per_kind k
ORDER BY CASE k.kind WHEN 'published' THEN 0 WHEN 'site' THEN 1 ELSE 2 END
