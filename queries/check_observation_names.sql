-- The parameter names and units an observations file uses, each pair once, among the rows read
-- whole into the import's checking database: the import resolves each name to its code and
-- each unit to its factor once, not once a row (carta/ingest/observation_checks.py).
-- database: checking
SELECT DISTINCT code, unit
FROM typed
WHERE parse_problems IS NULL
