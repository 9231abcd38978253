-- Every source id in the store.
SELECT source_id FROM sources ORDER BY source_id
