-- The (patient, day, parameter, specimen) of every stored observation of the patients in
-- $patients: an import may not add a second value for any of them. (A semi-join, not
-- list_contains: the list may hold thousands of patients, the table millions of rows.)
SELECT patient_id, day, code, specimen
FROM observations
WHERE patient_id IN (SELECT unnest($patients))
