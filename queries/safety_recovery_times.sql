-- Per patient of $patients, what the safety view's recovery curves and infection rate need: the
-- last follow-up day (follow_up_days, else the last dated observation; none for a publication
-- that reports its follow-up in words), severe neutropenia and the CIBMTR ANC recovery day
-- (patient_recovery), platelets below 20 x10^9/L in days 0-100 and their recovery day
-- (patient_hematotox), and B-cell aplasia onset and recovery (bcell_aplasia).
WITH chosen AS (
    SELECT unnest($patients) AS patient_id
),
last_observed AS (
    SELECT o.patient_id, max(o.day) AS last_day
    FROM observations o JOIN chosen USING (patient_id)
    WHERE o.day IS NOT NULL
    GROUP BY o.patient_id
)
SELECT
    c.patient_id,
    s.kind AS source_kind,
    -- A publication that reports its follow-up in words gives no day to censor at.
    CASE WHEN p.follow_up_days IS NULL AND s.kind = 'published' THEN NULL
        ELSE coalesce(p.follow_up_days, l.last_day) END AS follow_up_day,
    p.follow_up_days IS NULL AND s.kind <> 'published' AS follow_up_from_values,
    coalesce(r.severe_neutropenia, false) AS anc_severe,
    r.anc_recovery_day,
    coalesce(h.plt_below_20, false) AS plt_low,
    h.plt_recovery_day,
    b.onset_day AS bcell_onset_day,
    b.recovery_day AS bcell_recovery_day
FROM chosen c
JOIN patients p USING (patient_id)
JOIN sources s USING (source_id)
LEFT JOIN last_observed l USING (patient_id)
LEFT JOIN patient_recovery r USING (patient_id)
LEFT JOIN patient_hematotox h USING (patient_id)
LEFT JOIN bcell_aplasia b USING (patient_id)
ORDER BY c.patient_id
