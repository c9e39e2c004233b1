-- Clone logins for alternating-users password rotation.
--
-- In prod, Secrets Manager rotates the application and read-only credentials with AWS's PostgreSQL
-- multi-user rotation function. Each rotation switches the secret between two logins,
-- accessweaver_app and accessweaver_app_clone (the function appends or strips `_clone`), and sets
-- a new password on the login the secret did NOT name, so the previous credential keeps working
-- for the tasks that started with it until the next rotation, 30 days later.
--
-- When the clone is missing, the function creates it as a member of the login it copies
-- (GRANT accessweaver_app TO accessweaver_app_clone): that inherits the privileges but not the
-- login's own settings (per-role settings such as default_transaction_read_only are not
-- inherited), and makes the clone depend on the other login. So the clones are made here, like the
-- logins, with the same attributes, memberships and settings; the function then only sets their
-- password. Everything is copied from the login rather than listed, so the two cannot drift;
-- test/db/rotation.test.ts compares them in the catalog. Created without a password: a clone cannot
-- authenticate before its first rotation.
DO $$
DECLARE
    pair record;
    membership record;
    setting record;
BEGIN
    FOR pair IN
        SELECT * FROM (VALUES
            ('accessweaver_app', 'accessweaver_app_clone'),
            ('accessweaver_readonly', 'accessweaver_readonly_clone')
        ) AS p (login, clone)
    LOOP
        IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = pair.clone) THEN
            BEGIN
                EXECUTE format(
                    'CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS', pair.clone);
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL; -- created meanwhile by a migration of another database
            END;
        END IF;
        EXECUTE format('ALTER ROLE %I %s', pair.clone, (
            SELECT concat_ws(' ',
                       CASE WHEN r.rolinherit THEN 'INHERIT' ELSE 'NOINHERIT' END,
                       CASE WHEN r.rolcanlogin THEN 'LOGIN' ELSE 'NOLOGIN' END,
                       'CONNECTION LIMIT ' || r.rolconnlimit)
              FROM pg_catalog.pg_roles r WHERE r.rolname = pair.login));

        FOR membership IN
            SELECT g.rolname, m.admin_option
              FROM pg_catalog.pg_auth_members m JOIN pg_catalog.pg_roles g ON g.oid = m.roleid
             WHERE m.member = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = pair.login)
        LOOP
            EXECUTE format('GRANT %I TO %I%s', membership.rolname, pair.clone,
                           CASE WHEN membership.admin_option THEN ' WITH ADMIN OPTION' ELSE '' END);
        END LOOP;

        -- Settings for every database (setdatabase 0) and for this one; other databases copy their
        -- own when their migrations run. set_config() parses the stored value as the server does
        -- (a list stays a list) and FROM CURRENT stores it for the clone; both end with this file's
        -- transaction.
        FOR setting IN
            SELECT s.setdatabase, split_part(c.config, '=', 1) AS name,
                   substr(c.config, length(split_part(c.config, '=', 1)) + 2) AS value
              FROM pg_catalog.pg_db_role_setting s, unnest(s.setconfig) AS c (config)
             WHERE s.setrole = (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = pair.login)
               AND s.setdatabase IN (0, (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database()))
        LOOP
            PERFORM pg_catalog.set_config(setting.name, setting.value, true);
            EXECUTE format('ALTER ROLE %I%s SET %I FROM CURRENT', pair.clone,
                           CASE WHEN setting.setdatabase = 0 THEN ''
                                ELSE format(' IN DATABASE %I', current_database()) END,
                           setting.name);
        END LOOP;
    END LOOP;
END
$$;
