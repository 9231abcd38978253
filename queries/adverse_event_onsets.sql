-- Every dated adverse event's onset: the input of the data-quality check of events before
-- enrolment (carta/measures/quality.py).
SELECT patient_id, term, onset_day
FROM adverse_events
WHERE onset_day IS NOT NULL
ORDER BY patient_id, onset_day
