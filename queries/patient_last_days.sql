-- Every patient's last day of follow-up: follow_up_days, else the last dated observation
-- (NULL for a publication that reports its follow-up in words, as in the safety view), and
-- the indication and source: what the exposure, remission and completeness rules are computed
-- against.
-- access: patient
WITH last_observed AS (
    SELECT patient_id, max(day) AS last_day
    FROM observations
    WHERE day IS NOT NULL
    GROUP BY patient_id
)
SELECT
    p.patient_id,
    p.indication,
    p.source_id,
    CASE WHEN p.follow_up_days IS NULL AND s.kind = 'published' THEN NULL
        ELSE coalesce(p.follow_up_days, l.last_day) END AS last_day
FROM patients p
JOIN sources s USING (source_id)
LEFT JOIN last_observed l USING (patient_id)
ORDER BY p.patient_id
