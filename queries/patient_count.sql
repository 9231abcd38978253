-- How many patients the store holds.
-- access: patient
SELECT count(*) AS patients FROM patients
