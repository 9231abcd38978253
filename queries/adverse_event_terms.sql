-- Every adverse event's term and onset day: the input of ACR-CRISS step 1
-- (carta/measures/remission.py); a patient with no row here has no adverse-event record.
SELECT patient_id, term, onset_day
FROM adverse_events
ORDER BY patient_id, onset_day NULLS LAST
