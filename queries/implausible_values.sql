-- Every stored dated value outside the plausible range of its code ($codes, $lows, $highs: the
-- ranges of data/reference/plausible_ranges.csv, NULL for an open side): the input of the
-- data-quality check `implausible value` (carta/measures/quality.py).
WITH ranges AS (
    SELECT unnest($codes) AS code, unnest($lows) AS plausible_low, unnest($highs) AS plausible_high
)
SELECT o.patient_id, o.day, o.code, o.value, r.plausible_low, r.plausible_high
FROM observations o
JOIN ranges r USING (code)
WHERE o.day IS NOT NULL AND o.value IS NOT NULL
    AND (o.value < r.plausible_low OR o.value > r.plausible_high)
ORDER BY o.patient_id, o.day, o.code
