-- Every dated observation of the parameters in $codes (a list of codes), with the result's reference
-- limits or the dictionary's defaults: the input of the derived tables' rules. Patients
-- $first_patient to $last_patient (by id) only: the publish computes a batch of patients at a time.
SELECT
    o.patient_id,
    o.day,
    o.code,
    o.specimen,
    o.value,
    o.qualifier,
    coalesce(o.ref_low, m.ref_low) AS ref_low,
    coalesce(o.ref_high, m.ref_high) AS ref_high
FROM observations o
JOIN parameters m USING (code)
WHERE list_contains($codes, o.code) AND o.day IS NOT NULL
    AND o.patient_id BETWEEN $first_patient AND $last_patient
ORDER BY o.patient_id, o.code, o.specimen, o.day
