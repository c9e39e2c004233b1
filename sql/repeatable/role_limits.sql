-- Limits of the roles tenant isolation relies on, re-asserted by migrate() after the numbered
-- migrations on every run (numbered files run once; this file runs every time and may change).
-- A database whose roles existed before, or were loosened since, is repaired here rather than
-- trusted:
--   * NOSUPERUSER NOBYPASSRLS NOCREATEROLE NOCREATEDB NOREPLICATION on application_role,
--     readonly_role, accessweaver_app, accessweaver_readonly and every other member of the two
--     group roles (a login made later for a service, or a rotation clone);
--   * the logins are members of their group role and nothing else (rds_iam aside): in particular
--     never of accessweaver_operator, whose policies see every tenant.
-- Each attribute is altered only when it is wrong: changing SUPERUSER, BYPASSRLS or REPLICATION
-- takes a superuser, which the RDS master is not, so a correct role must not need one. When a
-- loosened role cannot be repaired by the migrating role, the run fails instead of going on.
DO $$
DECLARE
    wanted record;
    attribute record;
    membership record;
BEGIN
    FOR wanted IN
        WITH RECURSIVE members (oid) AS (
            SELECT m.member FROM pg_catalog.pg_auth_members m
             WHERE m.roleid IN (SELECT oid FROM pg_catalog.pg_roles
                                 WHERE rolname IN ('application_role', 'readonly_role'))
            UNION
            SELECT m.member FROM pg_catalog.pg_auth_members m JOIN members ON m.roleid = members.oid
        )
        SELECT r.oid, r.rolname,
               CASE r.rolname
                   WHEN 'accessweaver_app' THEN ARRAY['application_role']
                   WHEN 'accessweaver_readonly' THEN ARRAY['readonly_role']
                   WHEN 'application_role' THEN ARRAY[]::text[]
                   WHEN 'readonly_role' THEN ARRAY[]::text[]
                   ELSE ARRAY['application_role', 'readonly_role', 'rds_iam']
               END AS allowed
          FROM pg_catalog.pg_roles r
         WHERE (r.rolname IN ('application_role', 'readonly_role', 'accessweaver_app', 'accessweaver_readonly')
                OR r.oid IN (SELECT oid FROM members))
           AND r.rolname <> current_user
    LOOP
        FOR attribute IN
            SELECT a.option FROM pg_catalog.pg_roles r, LATERAL (VALUES
                ('NOSUPERUSER', r.rolsuper), ('NOBYPASSRLS', r.rolbypassrls), ('NOCREATEROLE', r.rolcreaterole),
                ('NOCREATEDB', r.rolcreatedb), ('NOREPLICATION', r.rolreplication)) AS a (option, loose)
             WHERE r.oid = wanted.oid AND a.loose
        LOOP
            RAISE NOTICE 'role %: %', wanted.rolname, attribute.option;
            EXECUTE format('ALTER ROLE %I %s', wanted.rolname, attribute.option);
        END LOOP;
        FOR membership IN
            SELECT g.rolname FROM pg_catalog.pg_auth_members m JOIN pg_catalog.pg_roles g ON g.oid = m.roleid
             WHERE m.member = wanted.oid AND NOT g.rolname = ANY (wanted.allowed)
        LOOP
            RAISE NOTICE 'role %: revoking membership in %', wanted.rolname, membership.rolname;
            EXECUTE format('REVOKE %I FROM %I', membership.rolname, wanted.rolname);
        END LOOP;
    END LOOP;

    -- The expected memberships, in case they were revoked (0003 grants them once).
    GRANT application_role TO accessweaver_app;
    GRANT readonly_role TO accessweaver_readonly;

    -- A membership reached through a role this file does not own would still hand the login every
    -- tenant: refuse to finish rather than leave it.
    PERFORM FROM pg_catalog.pg_roles r
      WHERE r.rolname IN ('application_role', 'readonly_role', 'accessweaver_app', 'accessweaver_readonly')
        AND pg_catalog.pg_has_role(r.oid, 'accessweaver_operator', 'MEMBER');
    IF FOUND THEN
        RAISE EXCEPTION 'a tenant-facing role is still a member of accessweaver_operator through another role; '
                        'revoke that membership and run the migrations again';
    END IF;
END
$$;
