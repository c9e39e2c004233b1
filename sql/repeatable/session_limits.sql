-- What a login could leave on its session, or store for its later sessions, to reach the next tenant on a pooled
-- connection; re-asserted by migrate() on every run, after role_limits.sql (docs/database.md, "One connection,
-- many tenants"). The tenant-facing roles are application_role, readonly_role, the two logins and every member of
-- the two group roles (rotation clones, per-service logins); "reachable" adds every role one of them is a member of.
--   * No temporary objects: a pg_temp function, domain or view resolves before the schema's own names and runs
--     inside the next tenant's transaction. TEMPORARY on this database is revoked from PUBLIC and every reachable
--     role; the run fails if a tenant-facing role still has it.
--   * No objects of their own making in any schema (a function in a schema of the search_path can win the
--     resolution of an unqualified call): CREATE is revoked the same way, and owning a schema fails the run.
--   * Per-role settings: a login may ALTER ROLE itself SET debug_print_plan = on (or row_security = off, ...) and
--     every later session starts with it. For every database and for this one, anything but what the migrations
--     set is reset, and what they set is put back if it was removed. The expected settings are the ones
--     `accessweaver-rds health-check` accepts (src/cli/login-settings.ts).

-- Temporary objects and objects in schemas.
DO $$
DECLARE
    -- Members of the two group roles, directly or not, the group roles and the logins (role_limits.sql has
    -- re-granted their memberships); a superuser counts as a member of every role and is left out.
    facing oid[] := ARRAY(
        SELECT r.oid FROM pg_catalog.pg_roles r
         WHERE (pg_catalog.pg_has_role(r.oid, 'application_role', 'MEMBER')
                OR pg_catalog.pg_has_role(r.oid, 'readonly_role', 'MEMBER'))
           AND NOT r.rolsuper AND r.rolname <> current_user);
    reachable record;
    target record;
    remaining text;
BEGIN
    EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());
    FOR reachable IN
        SELECT DISTINCT r.rolname FROM pg_catalog.pg_roles r, unnest(facing) AS f (oid)
         WHERE pg_catalog.pg_has_role(f.oid, r.oid, 'MEMBER') AND r.rolname <> current_user
    LOOP
        EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM %I', current_database(), reachable.rolname);
        FOR target IN
            SELECT n.nspname FROM pg_catalog.pg_namespace n
             WHERE pg_catalog.has_schema_privilege(reachable.rolname, n.oid, 'CREATE')
        LOOP
            EXECUTE format('REVOKE CREATE ON SCHEMA %I FROM PUBLIC', target.nspname);
            EXECUTE format('REVOKE CREATE ON SCHEMA %I FROM %I', target.nspname, reachable.rolname);
        END LOOP;
    END LOOP;

    SELECT string_agg(DISTINCT format('%s: %s', r.rolname, p.what), '; ') INTO remaining
      FROM pg_catalog.pg_roles r, unnest(facing) AS f (oid),
           LATERAL (SELECT 'TEMPORARY on database ' || current_database()
                     WHERE pg_catalog.has_database_privilege(r.oid, current_database(), 'TEMPORARY')
                    UNION ALL
                    SELECT 'CREATE on schema ' || n.nspname FROM pg_catalog.pg_namespace n
                     WHERE pg_catalog.has_schema_privilege(r.oid, n.oid, 'CREATE')
                    UNION ALL
                    -- An owner may grant itself CREATE again whenever it likes.
                    SELECT 'owner of schema ' || n.nspname FROM pg_catalog.pg_namespace n
                     WHERE pg_catalog.pg_has_role(r.oid, n.nspowner, 'MEMBER')) AS p (what)
     WHERE r.oid = f.oid;
    IF remaining IS NOT NULL THEN
        RAISE EXCEPTION 'tenant-facing roles can still create objects (%): revoke the grant as its grantor, or give '
                        'the schema another owner, and run the migrations again', remaining;
    END IF;
END
$$;

-- Per-role settings.
DO $$
DECLARE
    -- As above.
    facing oid[] := ARRAY(
        SELECT r.oid FROM pg_catalog.pg_roles r
         WHERE (pg_catalog.pg_has_role(r.oid, 'application_role', 'MEMBER')
                OR pg_catalog.pg_has_role(r.oid, 'readonly_role', 'MEMBER'))
           AND NOT r.rolsuper AND r.rolname <> current_user);
    setting record;
    login record;
BEGIN
    FOR setting IN
        SELECT r.rolname, s.setdatabase, split_part(c.config, '=', 1) AS name, c.config,
               pg_catalog.pg_has_role(r.oid, 'readonly_role', 'MEMBER') AS readonly
          FROM pg_catalog.pg_db_role_setting s
          JOIN pg_catalog.pg_roles r ON r.oid = s.setrole
         CROSS JOIN LATERAL unnest(s.setconfig) AS c (config)
         WHERE r.oid = ANY (facing)
           AND s.setdatabase IN (0, (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database()))
    LOOP
        CONTINUE WHEN setting.config = 'search_path=accessweaver, public' AND setting.setdatabase <> 0;
        CONTINUE WHEN setting.config = 'default_transaction_read_only=on' AND setting.readonly
                      AND setting.setdatabase = 0;
        RAISE NOTICE 'role %: resetting %', setting.rolname, setting.config;
        BEGIN
            EXECUTE format('ALTER ROLE %I%s RESET %I', setting.rolname,
                           CASE WHEN setting.setdatabase = 0 THEN ''
                                ELSE format(' IN DATABASE %I', current_database()) END,
                           setting.name);
        EXCEPTION WHEN internal_error THEN
            -- "tuple concurrently updated": the migration of another database reset the same setting of the
            -- same (cluster-wide) role meanwhile. Only a setting still there is a failure.
            IF EXISTS (SELECT FROM pg_catalog.pg_db_role_setting s
                        WHERE s.setrole = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = setting.rolname)
                          AND s.setdatabase = setting.setdatabase AND setting.config = ANY (s.setconfig)) THEN
                RAISE;
            END IF;
        END;
    END LOOP;

    -- What 0003 sets (and 0006 copies to the clones), put back if a login removed it from itself.
    FOR login IN
        SELECT r.rolname, r.rolname LIKE 'accessweaver\_readonly%' AS readonly
          FROM pg_catalog.pg_roles r
         WHERE r.rolname IN ('accessweaver_app', 'accessweaver_readonly',
                             'accessweaver_app_clone', 'accessweaver_readonly_clone')
    LOOP
        IF NOT EXISTS (SELECT FROM pg_catalog.pg_db_role_setting s, pg_catalog.pg_database d
                        WHERE s.setrole = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = login.rolname)
                          AND d.oid = s.setdatabase AND d.datname = current_database()
                          AND 'search_path=accessweaver, public' = ANY (s.setconfig)) THEN
            EXECUTE format('ALTER ROLE %I IN DATABASE %I SET search_path = accessweaver, public',
                           login.rolname, current_database());
        END IF;
        IF login.readonly AND NOT EXISTS (
            SELECT FROM pg_catalog.pg_db_role_setting s
             WHERE s.setrole = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = login.rolname)
               AND s.setdatabase = 0 AND 'default_transaction_read_only=on' = ANY (s.setconfig)) THEN
            EXECUTE format('ALTER ROLE %I SET default_transaction_read_only = on', login.rolname);
        END IF;
    END LOOP;
END
$$;
