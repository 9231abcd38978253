-- How many patients the store holds.
SELECT count(*) AS patients FROM patients
