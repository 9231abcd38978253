-- Every infusion event's day (NULL when the source gives none): the input of the data-quality
-- checks (carta/measures/quality.py).
SELECT patient_id, start_day
FROM events
WHERE kind = 'infusion'
ORDER BY patient_id, start_day
