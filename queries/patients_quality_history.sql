-- The data-quality findings of every published version, per source and check (table
-- quality_history): the trend across releases on the Data page.
-- access: patient
SELECT store_version, published_at, source_id, category, check_name, findings, patients
FROM quality_history
ORDER BY store_version, source_id, category, check_name
