-- Every dated autoantibody result read as negative, borderline or positive: the input of the
-- serology rule (carta/measures/serology.py, table serology_status).
SELECT o.patient_id, o.code, o.day, o.interpretation
FROM observations o
JOIN parameters p USING (code)
WHERE p.domain = 'serology' AND o.interpretation IS NOT NULL AND o.day IS NOT NULL
ORDER BY o.patient_id, o.code, o.day
