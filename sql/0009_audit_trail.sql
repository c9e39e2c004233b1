-- Audit trail of authorization changes: every INSERT, UPDATE and DELETE on users, roles and
-- user_roles writes one event, which its tenant can read and nobody can change.
--
--   accessweaver.audit_events      the events, partitioned by month (UTC); tenants read their own
--   accessweaver_audit.*           the partitions; no privilege for anyone but their owner
--   accessweaver_audit_writer      NOLOGIN role that owns the trigger function and alone may append
--
-- The logins reach events only through the parent table, under forced row-level security and with
-- SELECT alone, so they can neither read another tenant's events nor insert, update, delete or
-- truncate any. Events are written by a SECURITY DEFINER trigger function owned by
-- accessweaver_audit_writer, which nobody can log in as or SET ROLE to once this file has run.
-- Retention: 12 full months (docs/database.md); prune_audit_events() drops whole months.

CREATE SCHEMA accessweaver_audit;
REVOKE ALL ON SCHEMA accessweaver_audit FROM PUBLIC;

-- A pre-existing role of that name is refused rather than trusted: it must not log in or bypass RLS.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'accessweaver_audit_writer') THEN
        BEGIN
            CREATE ROLE accessweaver_audit_writer NOLOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL; -- created meanwhile by a migration of another database
        END;
    END IF;
    IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = 'accessweaver_audit_writer'
               AND (rolcanlogin OR rolsuper OR rolbypassrls OR rolcreaterole OR rolcreatedb OR rolreplication)) THEN
        RAISE EXCEPTION 'role accessweaver_audit_writer exists with LOGIN, SUPERUSER, BYPASSRLS, CREATEROLE, CREATEDB or REPLICATION; drop or fix it first';
    END IF;
END
$$;

CREATE SEQUENCE accessweaver_audit.audit_event_id_seq AS bigint;

CREATE TABLE accessweaver.audit_events (
    id             bigint      NOT NULL DEFAULT nextval('accessweaver_audit.audit_event_id_seq'),
    -- Transaction start: the events of one transaction share it (and its transaction_id).
    occurred_at    timestamptz NOT NULL DEFAULT now(),
    tenant_id      uuid        NOT NULL,
    -- The acting user from the signed tenant context; NULL when the context names none (operators, jobs).
    actor_id       uuid,
    -- The database login that made the change (accessweaver_app, the master user, ...).
    login          name        NOT NULL DEFAULT session_user,
    action         text        NOT NULL CHECK (action IN ('INSERT', 'UPDATE', 'DELETE')),
    table_name     text        NOT NULL CHECK (table_name IN ('users', 'roles', 'user_roles')),
    -- {"id": ...} for users and roles, {"user_id": ..., "role_id": ...} for user_roles.
    row_key        jsonb       NOT NULL,
    -- INSERT: the new row; DELETE: the deleted row; UPDATE: {"column": {"old": ..., "new": ...}} per changed column.
    changes        jsonb       NOT NULL,
    transaction_id xid8        NOT NULL DEFAULT pg_catalog.pg_current_xact_id()
) PARTITION BY RANGE (occurred_at);

-- Export and the tenant's own reads: one tenant's events in time order are one index range.
CREATE INDEX audit_events_tenant_time_idx ON accessweaver.audit_events (tenant_id, occurred_at, id);

-- Catches events of a month whose partition does not exist yet; create_audit_partitions() moves them out.
CREATE TABLE accessweaver_audit.audit_events_default PARTITION OF accessweaver.audit_events DEFAULT;

ALTER TABLE accessweaver.audit_events ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;

CREATE POLICY tenant_isolation_audit_events ON accessweaver.audit_events
    FOR SELECT TO application_role, readonly_role
    USING (tenant_id = (SELECT accessweaver.current_tenant_id()));
CREATE POLICY operator_reads_audit_events ON accessweaver.audit_events
    FOR SELECT TO accessweaver_operator USING (true);
CREATE POLICY audit_writer_appends ON accessweaver.audit_events
    FOR INSERT TO accessweaver_audit_writer WITH CHECK (true);

-- The schema's default privileges (0003) gave the logins' roles write access to this new table: take
-- it back. The owner gives up its own write privileges too, so an UPDATE or DELETE is refused even
-- as the master user (pruning drops whole partitions instead).
REVOKE ALL ON accessweaver.audit_events FROM PUBLIC, application_role, readonly_role, accessweaver_operator;
GRANT SELECT ON accessweaver.audit_events TO application_role, readonly_role, accessweaver_operator;
DO $$
BEGIN
    EXECUTE format('REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON accessweaver.audit_events FROM %I', current_user);
END
$$;
GRANT USAGE ON SCHEMA accessweaver TO accessweaver_audit_writer;
GRANT INSERT ON accessweaver.audit_events TO accessweaver_audit_writer;
GRANT USAGE ON SCHEMA accessweaver_audit TO accessweaver_audit_writer;
GRANT USAGE ON SEQUENCE accessweaver_audit.audit_event_id_seq TO accessweaver_audit_writer;
GRANT EXECUTE ON FUNCTION accessweaver.current_actor_id() TO accessweaver_audit_writer;

-- One generic row trigger; its arguments name the columns that identify a row of the table.
CREATE FUNCTION accessweaver.record_audit_event()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    old_row jsonb := CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) END;
    new_row jsonb := CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) END;
    current_row jsonb := coalesce(new_row, old_row);
    row_key jsonb;
    changes jsonb;
    actor uuid := accessweaver.current_actor_id();
BEGIN
    SELECT jsonb_object_agg(key_column, current_row -> key_column) INTO row_key FROM unnest(TG_ARGV) AS key_column;
    IF TG_OP = 'UPDATE' THEN
        SELECT coalesce(jsonb_object_agg(n.key, jsonb_build_object('old', o.value, 'new', n.value)), '{}')
          INTO changes
          FROM jsonb_each(new_row) n JOIN jsonb_each(old_row) o ON o.key = n.key
         WHERE n.value IS DISTINCT FROM o.value;
    ELSE
        changes := current_row - TG_ARGV - 'tenant_id';
    END IF;
    INSERT INTO accessweaver.audit_events (tenant_id, actor_id, action, table_name, row_key, changes)
    VALUES ((current_row ->> 'tenant_id')::uuid, actor, TG_OP, TG_TABLE_NAME, row_key, changes);
    -- A row moved to another tenant (operators only: the tenant policies forbid it) leaves an event in both.
    IF TG_OP = 'UPDATE' AND old_row -> 'tenant_id' IS DISTINCT FROM new_row -> 'tenant_id' THEN
        INSERT INTO accessweaver.audit_events (tenant_id, actor_id, action, table_name, row_key, changes)
        VALUES ((old_row ->> 'tenant_id')::uuid, actor, TG_OP, TG_TABLE_NAME, row_key, changes);
    END IF;
    RETURN NULL;
END
$$;

REVOKE ALL ON FUNCTION accessweaver.record_audit_event() FROM PUBLIC;

CREATE TRIGGER audit_users AFTER INSERT OR UPDATE OR DELETE ON accessweaver.users
    FOR EACH ROW EXECUTE FUNCTION accessweaver.record_audit_event('id');
CREATE TRIGGER audit_roles AFTER INSERT OR UPDATE OR DELETE ON accessweaver.roles
    FOR EACH ROW EXECUTE FUNCTION accessweaver.record_audit_event('id');
CREATE TRIGGER audit_user_roles AFTER INSERT OR UPDATE OR DELETE ON accessweaver.user_roles
    FOR EACH ROW EXECUTE FUNCTION accessweaver.record_audit_event('user_id', 'role_id');

-- The writer owns the function, so the function's INSERT is the writer's, under its policy. A
-- non-superuser may only hand a function to a role it belongs to, and that role needs CREATE on the
-- schema: both are granted for the hand-over only.
DO $$
DECLARE
    superuser boolean := (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user);
BEGIN
    IF NOT superuser THEN
        EXECUTE format('GRANT accessweaver_audit_writer TO %I', current_user);
    END IF;
    GRANT CREATE ON SCHEMA accessweaver TO accessweaver_audit_writer;
    ALTER FUNCTION accessweaver.record_audit_event() OWNER TO accessweaver_audit_writer;
    REVOKE CREATE ON SCHEMA accessweaver FROM accessweaver_audit_writer;
    IF NOT superuser THEN
        EXECUTE format('REVOKE accessweaver_audit_writer FROM %I', current_user);
    END IF;
END
$$;

-- Bounds of the month (UTC) containing `at_time`, shifted by `offset_months`.
CREATE FUNCTION accessweaver_audit.month_bounds(at_time timestamptz, offset_months integer,
                                                OUT lower_bound timestamptz, OUT upper_bound timestamptz, OUT suffix text)
LANGUAGE sql
STABLE
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT m AT TIME ZONE 'UTC', (m + interval '1 month') AT TIME ZONE 'UTC', to_char(m, 'YYYY_MM')
      FROM (SELECT date_trunc('month', at_time AT TIME ZONE 'UTC') + make_interval(months => offset_months) AS m) s
$$;

-- Creates the partitions of the month of `as_of` and the `months_ahead` following ones where missing,
-- first moving any events of that month out of the default partition. Returns the partitions created.
-- Run by the master user: the migrations call it once, `accessweaver-rds audit partitions` monthly.
CREATE FUNCTION accessweaver.create_audit_partitions(months_ahead integer DEFAULT 3, as_of timestamptz DEFAULT now())
RETURNS SETOF text
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    month record;
    partition_name text;
BEGIN
    IF months_ahead IS NULL OR months_ahead < 0 OR months_ahead > 24 THEN
        RAISE EXCEPTION 'months_ahead must be between 0 and 24, got %', months_ahead;
    END IF;
    FOR offset_months IN 0..months_ahead LOOP
        SELECT * INTO month FROM accessweaver_audit.month_bounds(as_of, offset_months);
        partition_name := 'audit_events_' || month.suffix;
        CONTINUE WHEN to_regclass(format('accessweaver_audit.%I', partition_name)) IS NOT NULL;
        EXECUTE format('CREATE TABLE accessweaver_audit.%I (LIKE accessweaver.audit_events INCLUDING DEFAULTS INCLUDING CONSTRAINTS)',
                       partition_name);
        EXECUTE format('WITH moved AS (DELETE FROM accessweaver_audit.audit_events_default
                                        WHERE occurred_at >= $1 AND occurred_at < $2 RETURNING *)
                        INSERT INTO accessweaver_audit.%I SELECT * FROM moved', partition_name)
            USING month.lower_bound, month.upper_bound;
        EXECUTE format('ALTER TABLE accessweaver.audit_events ATTACH PARTITION accessweaver_audit.%I
                        FOR VALUES FROM (%L) TO (%L)', partition_name, month.lower_bound, month.upper_bound);
        RETURN NEXT partition_name;
    END LOOP;
END
$$;

-- What retention removes: month partitions that ended before the first day of the month `keep_months`
-- before `as_of`'s (so at least `keep_months` full months remain), and older events in the default
-- partition. With dry_run the same list is returned and nothing is removed.
CREATE FUNCTION accessweaver.prune_audit_events(keep_months integer DEFAULT 12, as_of timestamptz DEFAULT now(),
                                                dry_run boolean DEFAULT true)
RETURNS TABLE (partition_name text, range_start timestamptz, range_end timestamptz, events bigint)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    cutoff timestamptz;
    expired record;
BEGIN
    IF keep_months IS NULL OR keep_months < 1 THEN
        RAISE EXCEPTION 'keep_months must be at least 1, got %', keep_months;
    END IF;
    cutoff := (accessweaver_audit.month_bounds(as_of, -keep_months)).lower_bound;
    FOR expired IN
        SELECT c.relname::text AS name, b.bounds[1]::timestamptz AS lower_bound, b.bounds[2]::timestamptz AS upper_bound
          FROM pg_inherits i
          JOIN pg_class c ON c.oid = i.inhrelid
          CROSS JOIN LATERAL regexp_match(pg_get_expr(c.relpartbound, c.oid),
                                          'FROM \(''([^'']+)''\) TO \(''([^'']+)''\)') AS b (bounds)
         WHERE i.inhparent = 'accessweaver.audit_events'::regclass
           AND b.bounds[2]::timestamptz <= cutoff
         ORDER BY 2
    LOOP
        partition_name := expired.name;
        range_start := expired.lower_bound;
        range_end := expired.upper_bound;
        EXECUTE format('SELECT count(*) FROM accessweaver_audit.%I', expired.name) INTO events;
        IF NOT dry_run THEN
            EXECUTE format('DROP TABLE accessweaver_audit.%I', expired.name);
        END IF;
        RETURN NEXT;
    END LOOP;
    partition_name := 'audit_events_default';
    SELECT min(occurred_at), count(*) INTO range_start, events
      FROM accessweaver_audit.audit_events_default WHERE occurred_at < cutoff;
    range_end := cutoff;
    IF events > 0 THEN
        IF NOT dry_run THEN
            DELETE FROM accessweaver_audit.audit_events_default WHERE occurred_at < cutoff;
        END IF;
        RETURN NEXT;
    END IF;
END
$$;

REVOKE ALL ON FUNCTION accessweaver_audit.month_bounds(timestamptz, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION accessweaver.create_audit_partitions(integer, timestamptz) FROM PUBLIC;
REVOKE ALL ON FUNCTION accessweaver.prune_audit_events(integer, timestamptz, boolean) FROM PUBLIC;

SELECT accessweaver.create_audit_partitions();
