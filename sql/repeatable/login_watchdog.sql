-- Schedules the login watchdog (0013) with pg_cron, on every migration run: the parameter group loads
-- pg_cron and names this database in cron.database_name, which is the only database pg_cron's
-- extension can be created in. Elsewhere (a server without pg_cron) the run says so and goes on:
-- health-check then reports the watchdog unscheduled, and enforce_login_limits() can still be run.
--
-- pg_cron 1.5 and later run a job every 1 to 59 seconds; older versions every minute at best.
-- The history of runs is kept for a day.
DO $$
DECLARE
    version integer[];
BEGIN
    IF current_setting('cron.database_name', true) IS DISTINCT FROM current_database() THEN
        RAISE NOTICE 'pg_cron is not loaded for database % (cron.database_name: %): '
                     'the login watchdog is not scheduled',
            current_database(), coalesce(current_setting('cron.database_name', true), 'unset');
        RETURN;
    END IF;
    CREATE EXTENSION IF NOT EXISTS pg_cron;
    SELECT (regexp_match(extversion, '^(\d+)\.(\d+)'))::integer[] INTO version
      FROM pg_catalog.pg_extension WHERE extname = 'pg_cron';
    PERFORM cron.schedule('accessweaver_login_watchdog',
                          CASE WHEN version >= ARRAY[1, 5] THEN '5 seconds' ELSE '* * * * *' END,
                          'SELECT count(*) FROM accessweaver.enforce_login_limits()');
    PERFORM cron.schedule('accessweaver_cron_history', '17 * * * *',
                          $job$DELETE FROM cron.job_run_details WHERE end_time < now() - interval '1 day'$job$);
END
$$;
