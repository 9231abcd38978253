-- The range of age and cell dose over all patients, for the range filters.
SELECT min(age_years) AS age_min, max(age_years) AS age_max,
    min(cell_dose_per_kg) AS dose_min, max(cell_dose_per_kg) AS dose_max,
    count(*) AS patients
FROM patients
