-- One row per patient for the home page list: who, from which source, how long followed.
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
ORDER BY CASE s.kind WHEN 'published' THEN 0 WHEN 'site' THEN 1 ELSE 2 END, p.patient_id
