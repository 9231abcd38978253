-- Each source and its kind (published, synthetic or site), to label exported rows.
SELECT source_id, kind, citation
FROM sources
ORDER BY source_id
