-- Patients for the home page list (who, from which source, how long followed), those whose id,
-- cohort or autoantibody contains $search (case-insensitive; '' for all), at most $max_rows of them.
-- access: patient
SELECT
    p.patient_id,
    p.cohort,
    s.kind AS source_kind,
    s.citation AS source_citation,
    s.doi AS source_doi,
    p.age_years,
    p.sex,
    p.diagnosis,
    p.autoantibody,
    p.product,
    p.follow_up_days,
    p.follow_up_reported,
    p.synthetic
FROM patients p
JOIN sources s USING (source_id)
WHERE $search = ''
    OR contains(lower(concat_ws(' ', p.patient_id, p.cohort, p.autoantibody)), lower($search))
ORDER BY CASE s.kind WHEN 'published' THEN 0 WHEN 'site' THEN 1 ELSE 2 END, p.patient_id
LIMIT $max_rows
