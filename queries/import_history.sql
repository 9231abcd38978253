-- Every file imported into the store, newest first, with its hash and counts.
SELECT import_id, imported_at, file_name, sha256, rows_accepted, rows_rejected, store_version
FROM imports
ORDER BY import_id DESC
