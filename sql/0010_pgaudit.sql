-- pgaudit: the server log records DDL and role changes (pgaudit.log = 'ddl,role', passwords redacted)
-- and, through the object-audit role rds_pgaudit (pgaudit.role), every write to the authorization
-- tables, whoever makes it. The parameter group loads the library; this file creates the extension
-- and the role where the server has pgaudit, and says so where it does not.
--
-- accessweaver.install_pgaudit() does the work and can be run again by the master user: an instance
-- whose parameter group gained pgaudit only after the migrations ran gets it that way after its reboot.
CREATE FUNCTION accessweaver.install_pgaudit()
RETURNS text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_available_extensions WHERE name = 'pgaudit') THEN
        RETURN 'pgaudit is not available on this server: no DDL, role or object audit lines in its log';
    END IF;
    IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
       AND NOT EXISTS (SELECT FROM pg_roles r WHERE r.rolname = 'rds_superuser'
                       AND pg_has_role(current_user, r.oid, 'MEMBER')) THEN
        RETURN 'pgaudit needs a superuser or rds_superuser to be installed; skipped';
    END IF;
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'rds_pgaudit') THEN
        BEGIN
            CREATE ROLE rds_pgaudit NOLOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL; -- created meanwhile by a migration of another database
        END;
    END IF;
    -- Object auditing logs the statements that use a privilege this role holds: writes, not reads.
    GRANT INSERT, UPDATE, DELETE ON accessweaver.tenants, accessweaver.users, accessweaver.roles,
        accessweaver.user_roles TO rds_pgaudit;
    IF NOT ('pgaudit' = ANY (string_to_array(replace(current_setting('shared_preload_libraries'), ' ', ''), ','))) THEN
        RETURN 'pgaudit is installed on this server but not loaded (shared_preload_libraries): role rds_pgaudit '
            'is ready; reboot the instance with the module''s parameter group, then run this function again';
    END IF;
    CREATE EXTENSION IF NOT EXISTS pgaudit;
    RETURN 'pgaudit enabled: extension created, rds_pgaudit audits writes to tenants, users, roles and user_roles';
END
$$;

REVOKE ALL ON FUNCTION accessweaver.install_pgaudit() FROM PUBLIC;

DO $$
BEGIN
    RAISE NOTICE '%', accessweaver.install_pgaudit();
END
$$;
