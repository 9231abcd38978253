-- The (patient, day, parameter, specimen) of every stored observation of the patients in
-- $patients: an import may not add a second value for any of them.
SELECT patient_id, day, code, specimen
FROM observations
WHERE list_contains($patients, patient_id)
