-- Query statistics for the maintenance tooling (the RDS parameter group preloads the library).
-- Creating this extension takes a superuser, or rds_superuser on RDS; elsewhere it is skipped
-- rather than failing the whole migration, since nothing in the schema depends on it.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_available_extensions WHERE name = 'pg_stat_statements') THEN
        RAISE NOTICE 'pg_stat_statements is not available on this server; skipped';
    ELSIF (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user)
          OR EXISTS (SELECT FROM pg_catalog.pg_roles r WHERE r.rolname = 'rds_superuser'
                     AND pg_catalog.pg_has_role(current_user, r.oid, 'MEMBER')) THEN
        CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
    ELSE
        RAISE NOTICE 'pg_stat_statements needs a superuser or rds_superuser; skipped';
    END IF;
END
$$;
