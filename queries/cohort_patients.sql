-- The patients that pass the cohort filters, in id order, with the kind of their source and their
-- indication. An empty list means "any"; a missing
-- value is matched by 'not reported'; a NULL bound leaves that side of a range open, and a range
-- that is set leaves out patients whose age or dose is not reported.
SELECT p.patient_id, s.kind AS source_kind, p.indication
FROM patients p
JOIN sources s USING (source_id)
WHERE (len($indications) = 0
        OR list_contains($indications, coalesce(p.indication, 'not reported')))
    AND (len($diagnoses) = 0 OR list_contains($diagnoses, coalesce(p.diagnosis, 'not reported')))
    AND (len($autoantibodies) = 0
        OR list_contains($autoantibodies, coalesce(p.autoantibody, 'not reported')))
    AND (len($sexes) = 0 OR list_contains($sexes, coalesce(p.sex, 'not reported')))
    AND (len($products) = 0 OR list_contains($products, coalesce(p.product, 'not reported')))
    AND (len($sources) = 0 OR list_contains($sources, p.source_id))
    AND ($age_min IS NULL OR p.age_years >= $age_min)
    AND ($age_max IS NULL OR p.age_years <= $age_max)
    AND ($dose_min IS NULL OR p.cell_dose_per_kg >= $dose_min)
    AND ($dose_max IS NULL OR p.cell_dose_per_kg <= $dose_max)
ORDER BY p.patient_id
