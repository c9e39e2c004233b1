-- The login watchdog: a lock or a transaction held by a tenant-facing login ends within a bound the
-- login cannot lift, and limits a login stored for itself are taken back.
--
-- A login may SET (or ALTER ROLE itself SET) lock_timeout, statement_timeout and
-- idle_in_transaction_session_timeout to 0, then LOCK TABLE what it may write IN ACCESS EXCLUSIVE
-- MODE (or, read-only, IN ACCESS SHARE MODE, which blocks partition maintenance): every other
-- tenant's statement then fails on lock_timeout for as long as it holds. The server's own timeouts
-- cannot stop that, since they are the login's to change. These functions run as the migrating
-- role, which may end any login's backend, and read their bounds from the parameter group
-- (src/rds/parameters.ts), as the calling session sees it without a SET of its own:
--   * a login backend another backend waits on, in a transaction (or, outside one, idle) for longer
--     than lock_timeout: every tenant statement behind it has given up by then;
--   * a login backend idle in a transaction for longer than idle_in_transaction_session_timeout
--     (what the server would have done, had the login not lifted it);
--   * a stored per-role setting of a login (ALTER ROLE ... SET) for a memory or time limit.
-- A bound of 0 turns its rule off, as PostgreSQL's own timeouts do. Only sessions of this database
-- are judged: a login's session elsewhere can hold no lock a tenant's statement here waits on.
--
-- accessweaver.enforce_login_limits() acts on the findings; pg_cron runs it every few seconds where
-- the server loads pg_cron for this database (repeatable/login_watchdog.sql schedules it), and the
-- operator may call it. accessweaver.login_limit_findings() only reports, for health-check.

-- Ending another role's backend takes pg_signal_backend, reading its state pg_read_all_stats: the RDS
-- master has both through rds_superuser, a superuser needs neither, and CREATEROLE may grant them.
DO $$
DECLARE
    needed text;
BEGIN
    FOREACH needed IN ARRAY ARRAY['pg_signal_backend', 'pg_read_all_stats'] LOOP
        IF NOT pg_catalog.pg_has_role(current_user, needed, 'MEMBER') THEN
            EXECUTE format('GRANT %I TO %I', needed, current_user);
        END IF;
    END LOOP;
END
$$;

-- Members of the two tenant-facing group roles, at any depth: the logins, per-service logins and
-- rotation clones.
CREATE FUNCTION accessweaver.tenant_login_oids()
RETURNS SETOF oid
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    WITH RECURSIVE members (oid) AS (
        SELECT m.member FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid
         WHERE g.rolname IN ('application_role', 'readonly_role')
        UNION
        SELECT m.member FROM pg_auth_members m JOIN members ON m.roleid = members.oid
    )
    SELECT oid FROM members
$$;
REVOKE ALL ON FUNCTION accessweaver.tenant_login_oids() FROM PUBLIC;

-- The per-role settings a login could store to raise a limit for its own later sessions.
CREATE FUNCTION accessweaver.login_limit_settings()
RETURNS text[]
LANGUAGE sql
IMMUTABLE
AS $$
    SELECT ARRAY['work_mem', 'hash_mem_multiplier', 'maintenance_work_mem', 'temp_buffers',
                 'logical_decoding_work_mem', 'statement_timeout', 'lock_timeout',
                 'idle_in_transaction_session_timeout', 'idle_session_timeout']
$$;

CREATE FUNCTION accessweaver.login_limit_findings()
RETURNS TABLE (pid integer, login text, finding text, seconds integer, detail text, setting text, database text)
LANGUAGE sql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    WITH logins AS (
        SELECT oid FROM accessweaver.tenant_login_oids() AS t (oid)
    ), bounds AS (
        SELECT max(setting::bigint) FILTER (WHERE name = 'lock_timeout') AS lock_ms,
               max(setting::bigint) FILTER (WHERE name = 'idle_in_transaction_session_timeout') AS idle_ms
          FROM pg_settings WHERE name IN ('lock_timeout', 'idle_in_transaction_session_timeout')
    ), waits AS (
        SELECT blocker.pid AS blocker, array_agg(w.pid ORDER BY w.pid) AS waiters
          FROM pg_stat_activity w, unnest(pg_blocking_pids(w.pid)) AS blocker (pid)
         WHERE w.wait_event_type = 'Lock'
         GROUP BY blocker.pid
    ), backends AS (
        SELECT a.pid, a.usename::text AS login, a.state, waits.waiters,
               -- A lock is held at least since the transaction began, or, outside one, since going idle.
               extract(epoch FROM now() - coalesce(a.xact_start, a.state_change)) * 1000 AS holding_ms,
               extract(epoch FROM now() - a.state_change) * 1000 AS idle_ms
          FROM pg_stat_activity a LEFT JOIN waits ON waits.blocker = a.pid
         WHERE a.usesysid IN (SELECT oid FROM logins) AND a.datname = current_database()
           AND a.pid <> pg_backend_pid()
    )
    SELECT b.pid, b.login, 'blocks others', (b.holding_ms / 1000)::integer,
           format('waited on by backend %s; lock_timeout is %s ms', array_to_string(b.waiters, ', '), bounds.lock_ms),
           NULL, NULL
      FROM backends b, bounds
     WHERE b.waiters IS NOT NULL AND bounds.lock_ms > 0 AND b.holding_ms > bounds.lock_ms
    UNION ALL
    SELECT b.pid, b.login, 'idle in transaction', (b.idle_ms / 1000)::integer,
           format('idle_in_transaction_session_timeout is %s ms', bounds.idle_ms), NULL, NULL
      FROM backends b, bounds
     WHERE b.state LIKE 'idle in transaction%' AND bounds.idle_ms > 0 AND b.idle_ms > bounds.idle_ms
       AND NOT (b.waiters IS NOT NULL AND bounds.lock_ms > 0 AND b.holding_ms > bounds.lock_ms)
    UNION ALL
    SELECT NULL, r.rolname::text, 'stored setting', NULL,
           format('%s (%s)', c.config, coalesce('database ' || d.datname, 'every database')),
           split_part(c.config, '=', 1), d.datname::text
      FROM pg_db_role_setting s
      JOIN pg_roles r ON r.oid = s.setrole
      LEFT JOIN pg_database d ON d.oid = s.setdatabase
     CROSS JOIN LATERAL unnest(s.setconfig) AS c (config)
     WHERE s.setrole IN (SELECT oid FROM logins)
       AND (s.setdatabase = 0 OR d.datname = current_database())
       AND split_part(c.config, '=', 1) = ANY (accessweaver.login_limit_settings())
$$;
REVOKE ALL ON FUNCTION accessweaver.login_limit_findings() FROM PUBLIC;
-- Reports no statement text and no tenant data: health-check may run as any of the logins.
GRANT EXECUTE ON FUNCTION accessweaver.login_limit_findings()
    TO accessweaver_operator, application_role, readonly_role;

CREATE FUNCTION accessweaver.enforce_login_limits()
RETURNS TABLE (pid integer, login text, finding text, seconds integer, detail text)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    found record;
BEGIN
    FOR found IN SELECT * FROM accessweaver.login_limit_findings() LOOP
        IF found.pid IS NOT NULL THEN
            PERFORM pg_terminate_backend(found.pid);
            RAISE LOG 'login watchdog: ended backend % of %: % for % s (%)',
                found.pid, found.login, found.finding, found.seconds, found.detail;
        ELSE
            EXECUTE format('ALTER ROLE %I %s RESET %I', found.login,
                           CASE WHEN found.database IS NULL THEN '' ELSE format('IN DATABASE %I', found.database) END,
                           found.setting);
            RAISE LOG 'login watchdog: reset % of %', found.detail, found.login;
        END IF;
        pid := found.pid;
        login := found.login;
        finding := found.finding;
        seconds := found.seconds;
        detail := found.detail;
        RETURN NEXT;
    END LOOP;
END
$$;
REVOKE ALL ON FUNCTION accessweaver.enforce_login_limits() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION accessweaver.enforce_login_limits() TO accessweaver_operator;

-- The watchdog's pg_cron job and its last run, for health-check (cron.job shows each role its own
-- jobs only, and the migrating role scheduled this one). No row: not scheduled in this database.
CREATE FUNCTION accessweaver.login_watchdog_schedule()
RETURNS TABLE (schedule text, active boolean, last_status text, last_start timestamptz)
LANGUAGE plpgsql
STABLE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF to_regclass('cron.job') IS NULL THEN
        RETURN;
    END IF;
    RETURN QUERY EXECUTE
        'SELECT j.schedule, j.active, r.status, r.start_time
           FROM cron.job j
           LEFT JOIN LATERAL (SELECT d.status, d.start_time FROM cron.job_run_details d
                               WHERE d.jobid = j.jobid ORDER BY d.start_time DESC NULLS LAST LIMIT 1) r ON true
          WHERE j.jobname = $1 AND j.database = current_database()'
        USING 'accessweaver_login_watchdog';
END
$$;
REVOKE ALL ON FUNCTION accessweaver.login_watchdog_schedule() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION accessweaver.login_watchdog_schedule()
    TO accessweaver_operator, application_role, readonly_role;
