-- The store's visit windows in display order: the default of the cohort explorer's windows.
SELECT name, nominal_day, day_from, day_to, sort
FROM timepoints
ORDER BY sort, nominal_day
