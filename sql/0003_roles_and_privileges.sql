-- Group roles, logins and privileges.
--
-- Roles are cluster-wide while this file runs once per database, so every role is created only
-- if missing (and a concurrent creation from another database is tolerated).
--
--   application_role       privileges of the application; every row it reaches is its tenant's
--   readonly_role          SELECT only, same tenant scoping (analytics, support)
--   accessweaver_operator  tenant lifecycle and maintenance: all rows (see 0004); never an application login
--   accessweaver_app       login of the application, member of application_role
--   accessweaver_readonly  login of read-only clients, member of readonly_role
--
-- Logins are created WITHOUT a password: no password ever lives in SQL. setLoginPasswords()
-- (src/db/logins.ts) sets them from the RDS module's credential secrets, or from environment
-- variables locally. Until then the logins cannot authenticate.
DO $$
DECLARE
    wanted record;
BEGIN
    FOR wanted IN
        SELECT * FROM (VALUES
            ('application_role', false),
            ('readonly_role', false),
            ('accessweaver_operator', false),
            ('accessweaver_app', true),
            ('accessweaver_readonly', true)
        ) AS r (name, can_login)
    LOOP
        IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = wanted.name) THEN
            BEGIN
                EXECUTE format(
                    'CREATE ROLE %I %s NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS',
                    wanted.name, CASE WHEN wanted.can_login THEN 'LOGIN' ELSE 'NOLOGIN' END);
            EXCEPTION WHEN duplicate_object OR unique_violation THEN
                NULL; -- created meanwhile by a migration of another database
            END;
        END IF;
    END LOOP;
END
$$;

GRANT application_role TO accessweaver_app;
GRANT readonly_role TO accessweaver_readonly;

-- The master user owns the tables, and FORCE ROW LEVEL SECURITY (0004) subjects owners to the
-- policies too; operator membership is what lets it manage tenants. A superuser needs none.
DO $$
BEGIN
    IF NOT (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user) THEN
        EXECUTE format('GRANT accessweaver_operator TO %I', current_user);
    END IF;
END
$$;

-- Defence in depth for read-only clients, and a search_path for clients that set none themselves.
ALTER ROLE accessweaver_readonly SET default_transaction_read_only = on;
DO $$
BEGIN
    EXECUTE format('ALTER ROLE accessweaver_app IN DATABASE %I SET search_path = accessweaver, public', current_database());
    EXECUTE format('ALTER ROLE accessweaver_readonly IN DATABASE %I SET search_path = accessweaver, public', current_database());
END
$$;

REVOKE ALL ON SCHEMA accessweaver FROM PUBLIC;
GRANT USAGE ON SCHEMA accessweaver TO application_role, readonly_role, accessweaver_operator;

-- tenants: the application reads its own row only (0004); creating, renaming, re-planning or
-- deleting a tenant is an operator action, so the application has no write privilege on it.
GRANT SELECT ON accessweaver.tenants TO application_role, readonly_role;
GRANT SELECT, INSERT, UPDATE, DELETE ON accessweaver.users, accessweaver.roles, accessweaver.user_roles
    TO application_role;
GRANT SELECT ON accessweaver.users, accessweaver.roles, accessweaver.user_roles TO readonly_role;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA accessweaver TO accessweaver_operator;

REVOKE ALL ON FUNCTION accessweaver.current_tenant_id() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION accessweaver.current_tenant_id()
    TO application_role, readonly_role, accessweaver_operator;

-- Tables that later migrations create get the same privileges (GRANT ... ON ALL TABLES only covers
-- tables that exist now). They apply to objects created by the migrating role, which creates them
-- all. A new table must still get its policies: test/db/catalog.test.ts fails for any table of the
-- schema without forced row-level security and a tenant policy.
ALTER DEFAULT PRIVILEGES IN SCHEMA accessweaver
    GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO application_role, accessweaver_operator;
ALTER DEFAULT PRIVILEGES IN SCHEMA accessweaver GRANT SELECT ON TABLES TO readonly_role;
ALTER DEFAULT PRIVILEGES IN SCHEMA accessweaver
    GRANT USAGE, SELECT ON SEQUENCES TO application_role, accessweaver_operator;
ALTER DEFAULT PRIVILEGES IN SCHEMA accessweaver GRANT SELECT ON SEQUENCES TO readonly_role;
