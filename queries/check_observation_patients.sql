-- The patients of an observations file (its rows read whole into the import's checking
-- database), each once: the store's values for them are the ones a row may not repeat.
-- database: checking
SELECT DISTINCT patient_id
FROM typed
WHERE parse_problems IS NULL
ORDER BY patient_id
