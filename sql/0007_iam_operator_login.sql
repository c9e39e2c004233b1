-- accessweaver_iam_operator: the login people use, with an IAM authentication token.
--
-- It authenticates through rds_iam (RDS checks a token signed by the caller's own AWS identity,
-- valid 15 minutes; CloudTrail records who asked for it), is created without a secret, and acts as
-- accessweaver_operator (every tenant, see 0004) with the statistics of pg_monitor (other
-- sessions' query text for the maintenance reports). Nobody needs the master password to run the
-- runbook; the master secret stays for the first setup and for break-glass.
--
-- rds_iam exists only on Amazon RDS. Elsewhere (a local PostgreSQL, the test server) nothing is
-- created and a notice says so: operators there connect with a URL of their own.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'rds_iam') THEN
        RAISE NOTICE 'role rds_iam does not exist (not Amazon RDS): accessweaver_iam_operator not created';
        RETURN;
    END IF;
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'accessweaver_iam_operator') THEN
        BEGIN
            CREATE ROLE accessweaver_iam_operator LOGIN INHERIT;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL; -- created meanwhile by a migration of another database
        END;
    END IF;
    -- Re-asserted whether it was just created or already there. RDS accepts only IAM tokens for a
    -- member of rds_iam, so a stored secret could not be used to log in as it.
    ALTER ROLE accessweaver_iam_operator LOGIN INHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
    GRANT rds_iam TO accessweaver_iam_operator;
    GRANT accessweaver_operator TO accessweaver_iam_operator;
    GRANT pg_monitor TO accessweaver_iam_operator;
END
$$;
