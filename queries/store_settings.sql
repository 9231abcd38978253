-- The settings the derived tables were computed with (store_meta keys derived_*).
SELECT substr(key, 9) AS setting, value
FROM store_meta
WHERE starts_with(key, 'derived_')
ORDER BY key
