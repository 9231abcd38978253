-- One patient's autoantibodies before and after the infusion (table serology_status), with
-- each antibody's name.
-- access: patient
SELECT s.*, p.label
FROM serology_status s
JOIN parameters p USING (code)
WHERE s.patient_id = $patient_id
ORDER BY p.sort
