-- Every value the cohort filters offer, with its number of patients; a missing value is offered
-- as 'not reported'. For sources, the label says what kind of source it is.
SELECT 'indication' AS field, coalesce(indication, 'not reported') AS value,
    coalesce(indication, 'not reported') AS label, count(*) AS patients
FROM patients GROUP BY ALL
UNION ALL
SELECT 'diagnosis', coalesce(diagnosis, 'not reported'),
    coalesce(diagnosis, 'not reported'), count(*)
FROM patients GROUP BY ALL
UNION ALL
SELECT 'autoantibody', coalesce(autoantibody, 'not reported'),
    coalesce(autoantibody, 'not reported'), count(*)
FROM patients GROUP BY ALL
UNION ALL
SELECT 'sex', coalesce(sex, 'not reported'), coalesce(sex, 'not reported'), count(*)
FROM patients GROUP BY ALL
UNION ALL
SELECT 'product', coalesce(product, 'not reported'), coalesce(product, 'not reported'), count(*)
FROM patients GROUP BY ALL
UNION ALL
SELECT 'source', p.source_id, p.source_id || ' (' || s.kind || ')', count(*)
FROM patients p JOIN sources s USING (source_id) GROUP BY ALL
ORDER BY field, patients DESC, value
