-- One patient's worst CTCAE v5.0 grade per lab term (table lab_grades), with the day it was first
-- reached.
SELECT term, max(grade) AS grade, arg_min(day, [-grade, day]) AS day
FROM lab_grades
WHERE patient_id = $patient_id AND grade IS NOT NULL
GROUP BY term
ORDER BY term
