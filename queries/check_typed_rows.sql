-- The rows of a file read whole into the import's checking database (table typed,
-- carta/ingest/typing_sql.py), typed as the store wants them, by line.
-- database: checking
SELECT * EXCLUDE (batch, parse_problems)
FROM typed
WHERE parse_problems IS NULL
ORDER BY line
