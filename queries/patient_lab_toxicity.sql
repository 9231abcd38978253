-- One patient's CTCAE v5.0 lab toxicity per term (table lab_toxicity): the baseline grade, the
-- worst grade after the infusion and the worst treatment-emergent one (worse than baseline).
-- access: patient
SELECT * FROM lab_toxicity WHERE patient_id = $patient_id ORDER BY code
