-- The cells of a file that could not be read, from the import's checking database (table typed,
-- carta/ingest/typing_sql.py): by batch, then column (its position in the table), a missing
-- value before one of the wrong type, then line.
-- database: checking
SELECT line, batch, p.position AS position, p.missing AS missing, p.text AS text
FROM (
    SELECT line, batch, unnest(parse_problems) AS p
    FROM typed
    WHERE parse_problems IS NOT NULL
)
ORDER BY batch, position, missing DESC, line
