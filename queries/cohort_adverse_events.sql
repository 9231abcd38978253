-- Adverse-event incidence for $patients, as a trial's safety table: per term, the number of
-- patients by their worst grade (grade 0, reported as not observed, is no event), with the
-- grading systems used. The denominator is the number of patients in $patients.
WITH worst AS (
    SELECT patient_id, term, max(grade) AS grade,
        string_agg(DISTINCT grading_system, ', ') AS systems
    FROM adverse_events
    WHERE patient_id IN (SELECT unnest($patients)) AND grade > 0
    GROUP BY patient_id, term
)
SELECT term,
    count(*) AS patients_any_grade,
    count(*) FILTER (WHERE grade = 1) AS grade_1,
    count(*) FILTER (WHERE grade = 2) AS grade_2,
    count(*) FILTER (WHERE grade = 3) AS grade_3,
    count(*) FILTER (WHERE grade = 4) AS grade_4,
    count(*) FILTER (WHERE grade = 5) AS grade_5,
    count(*) FILTER (WHERE grade >= 3) AS grade_3_or_more,
    string_agg(DISTINCT systems, ', ') AS grading_systems
FROM worst
GROUP BY term
ORDER BY patients_any_grade DESC, term
