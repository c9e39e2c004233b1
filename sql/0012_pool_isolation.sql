-- A context serves only the transaction that applied it, is judged by the clock of each statement, and is never
-- applied on a session that would leak it.
--
-- Pools hand one server connection to many tenants in turn. What a login leaves on its session must not reach the
-- next transaction on that connection (docs/database.md, "One connection, many tenants"):
--
--   * set_tenant_context() also writes accessweaver.tenant_context_transaction, transaction-locally: the start of
--     the current transaction in microseconds since 1970. The view selects only when it matches, so a context
--     stored with set_config at session level, or left by an earlier transaction, selects nothing. The marker is
--     not signed: a login that writes it for its own transaction gains nothing it could not get by calling
--     set_tenant_context with a context it already holds, and it cannot write one for a later transaction, whose
--     start it cannot know to the microsecond. Session settings never leave their backend, so no process id.
--   * Expiry and key validity are judged by clock_timestamp(), read when each statement's verification runs:
--     statement_timestamp() stands still inside a DO block, a procedure or a function, for as long as it runs.
--   * set_tenant_context() refuses (SQLSTATE 55000) a session whose settings would write the request's context,
--     bind values or plans to the server log, or turn its text against it, that has row_security off, a temporary
--     schema, or a context it did not apply in this transaction (accessweaver_private.unsafe_session_setting).
-- The privileges and per-role settings a login could use to poison its sessions are re-asserted on every migration
-- run (sql/repeatable/session_limits.sql).

-- The marker as set_tenant_context writes it and the view compares it: an integer, whose text no setting of the
-- session (DateStyle, TimeZone, extra_float_digits) changes. date_part's float8 resolves a microsecond of any
-- current date (its spacing is 0.24 µs), so rounding gives the exact value. Inlined into its callers.
CREATE FUNCTION accessweaver_private.transaction_marker()
RETURNS text
LANGUAGE sql
STABLE
PARALLEL SAFE
AS $$
    SELECT ((pg_catalog.date_part('epoch', pg_catalog.transaction_timestamp()) OPERATOR(pg_catalog.*) 1000000)
            ::pg_catalog.int8)::pg_catalog.text
$$;

-- Same columns as 0011's view; two changes: the marker gate (a condition on no table, so the planner evaluates it
-- once, before it reads the key) and the clock.
CREATE OR REPLACE VIEW accessweaver.tenant_context AS
SELECT pg_catalog.split_part(s.context, '.', 3)::pg_catalog.uuid AS tenant_id,
       NULLIF(pg_catalog.split_part(s.context, '.', 4), '')::pg_catalog.uuid AS actor_id
  FROM accessweaver_private.tenant_context_keys k,
       LATERAL (SELECT pg_catalog.current_setting('accessweaver.tenant_context', true) AS context OFFSET 0) s
 WHERE pg_catalog.current_setting('accessweaver.tenant_context_transaction', true)
       = accessweaver_private.transaction_marker()
   AND CASE
           WHEN pg_catalog.encode(accessweaver_private.hmac_sha256_blocks(
                    pg_catalog.left(s.context, -65), k.inner_block, k.outer_block), 'hex')
                = pg_catalog.split_part(s.context, '.', 6)
           THEN LEAST(pg_catalog.split_part(s.context, '.', 5)::pg_catalog.float8, k.verifies_until_epoch)
                > pg_catalog.date_part('epoch', pg_catalog.clock_timestamp())
           ELSE false
       END
   AND pg_catalog.starts_with(s.context, k.context_prefix);

COMMENT ON VIEW accessweaver.tenant_context IS
    'Tenant and actor of the signed context applied to the current transaction by accessweaver.set_tenant_context; '
    'no row when there is none, it was not applied in this transaction, or it does not verify now.';

REVOKE ALL ON FUNCTION accessweaver_private.transaction_marker() FROM PUBLIC;
-- The view's readers plan it with their own rights, and the planner inlines only what they may run.
GRANT EXECUTE ON FUNCTION accessweaver_private.transaction_marker()
    TO application_role, readonly_role, accessweaver_operator, accessweaver_audit_writer;

-- What makes a session unsafe for an honest request, in words naming the setting; NULL when nothing does:
--   * settings that could put a bound value or a planned constant in the server log (statement text alone holds
--     placeholders): the debug_print_* and log_parameter_max_length_on_error a login may set itself, and the
--     superuser-only ones an operator may have set (the module sets none of them);
--   * row_security off, and what would turn the request's own text against it: a client_encoding other than the
--     UTF8 both drivers send (the server would store their text garbled), standard_conforming_strings off
--     (a literal escaped by doubling quotes could end early), a DateStyle other than the ISO both drivers parse
--     (a grant's expiry read back as another date);
--   * a temporary schema (its objects resolve first), a context this transaction did not apply.
-- A single expression: inlined into set_tenant_context.
CREATE FUNCTION accessweaver_private.unsafe_session_setting()
RETURNS text
LANGUAGE sql
STABLE
AS $$
    SELECT CASE
        WHEN pg_catalog.current_setting('debug_print_plan') <> 'off' THEN 'debug_print_plan is on'
        WHEN pg_catalog.current_setting('debug_print_parse') <> 'off' THEN 'debug_print_parse is on'
        WHEN pg_catalog.current_setting('debug_print_rewritten') <> 'off' THEN 'debug_print_rewritten is on'
        WHEN pg_catalog.current_setting('log_parameter_max_length_on_error') <> '0'
            THEN 'log_parameter_max_length_on_error is not 0'
        WHEN pg_catalog.current_setting('log_statement') <> 'none' THEN 'log_statement is not none'
        WHEN pg_catalog.current_setting('log_min_duration_statement') <> '-1'
            THEN 'log_min_duration_statement is not -1'
        WHEN pg_catalog.current_setting('log_min_duration_sample') <> '-1' THEN 'log_min_duration_sample is not -1'
        WHEN pg_catalog.current_setting('log_transaction_sample_rate') <> '0'
            THEN 'log_transaction_sample_rate is not 0'
        WHEN COALESCE(pg_catalog.current_setting('auto_explain.log_min_duration', true), '-1') <> '-1'
            THEN 'auto_explain.log_min_duration is not -1'
        WHEN COALESCE(pg_catalog.current_setting('pgaudit.log_parameter', true), 'off') <> 'off'
            THEN 'pgaudit.log_parameter is on'
        WHEN pg_catalog.current_setting('row_security') <> 'on' THEN 'row_security is off'
        WHEN pg_catalog.current_setting('client_encoding') <> 'UTF8' THEN 'client_encoding is not UTF8'
        WHEN pg_catalog.current_setting('standard_conforming_strings') <> 'on'
            THEN 'standard_conforming_strings is off'
        WHEN NOT pg_catalog.starts_with(pg_catalog.current_setting('DateStyle'), 'ISO') THEN 'DateStyle is not ISO'
        WHEN pg_catalog.pg_my_temp_schema() <> 0 THEN 'the session has a temporary schema'
        WHEN COALESCE(pg_catalog.current_setting('accessweaver.tenant_context', true), '') <> ''
             AND pg_catalog.current_setting('accessweaver.tenant_context_transaction', true)
                 IS DISTINCT FROM accessweaver_private.transaction_marker()
            THEN 'accessweaver.tenant_context was set outside set_tenant_context in this transaction'
    END
$$;

REVOKE ALL ON FUNCTION accessweaver_private.unsafe_session_setting() FROM PUBLIC;

-- The reasons of set_tenant_context(): 0011's checks, judged by the clock.
CREATE OR REPLACE FUNCTION accessweaver_private.verify_tenant_context(
    context text, OUT tenant_id uuid, OUT actor_id uuid, OUT failure text)
LANGUAGE plpgsql
VOLATILE
PARALLEL SAFE
AS $$
#variable_conflict error
DECLARE
    field text[];
    signing_key record;
BEGIN
    IF context IS NULL OR context = '' THEN
        failure := 'missing';
        RETURN;
    END IF;
    field := string_to_array(context, '.');
    IF cardinality(field) <> 6 OR field[1] <> 'awtc1'
       OR NOT (field[2] ~ '^[1-9][0-9]*$' AND length(field[2]) <= 9)
       OR NOT accessweaver_private.is_canonical_uuid(field[3])
       OR NOT (field[4] = '' OR accessweaver_private.is_canonical_uuid(field[4]))
       OR NOT (field[5] ~ '^[1-9][0-9]*$' AND length(field[5]) <= 12)
       OR NOT (field[6] ~ '^[0-9a-f]+$' AND length(field[6]) = 64)
    THEN
        failure := 'malformed';
        RETURN;
    END IF;
    SELECT k.inner_block, k.outer_block INTO signing_key
      FROM accessweaver_private.tenant_context_keys k
     WHERE k.version = field[2]::integer
       AND (k.valid_until IS NULL OR k.valid_until > clock_timestamp());
    IF NOT FOUND THEN
        failure := 'unknown key version';
        RETURN;
    END IF;
    IF encode(accessweaver_private.hmac_sha256_blocks(left(context, -65), signing_key.inner_block,
                                                      signing_key.outer_block), 'hex') <> field[6] THEN
        failure := 'bad signature';
        RETURN;
    END IF;
    IF field[5]::bigint <= extract(epoch FROM clock_timestamp()) THEN
        failure := 'expired';
        RETURN;
    END IF;
    tenant_id := field[3]::uuid;
    actor_id := nullif(field[4], '')::uuid;
END
$$;

-- What the logins call at the start of each transaction. A session that is unsafe is refused before the context
-- is stored (55000, naming the setting); then the context and the transaction's marker are stored and accepted
-- when the view verifies them, as every query of the transaction will.
CREATE OR REPLACE FUNCTION accessweaver.set_tenant_context(context text)
RETURNS uuid
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict error
DECLARE
    unsafe text := accessweaver_private.unsafe_session_setting();
    stored text;
    tenant uuid;
BEGIN
    IF unsafe IS NOT NULL THEN
        RAISE EXCEPTION 'tenant context refused: unsafe session: %', unsafe
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    -- Assignments, not PERFORM: plpgsql evaluates them without a query of their own.
    stored := set_config('accessweaver.tenant_context', context, true);
    stored := set_config('accessweaver.tenant_context_transaction', accessweaver_private.transaction_marker(), true);
    SELECT t.tenant_id INTO tenant FROM accessweaver.tenant_context t;
    IF tenant IS NOT NULL THEN
        RETURN tenant;
    END IF;
    -- The error undoes both settings with the statement.
    RAISE EXCEPTION 'tenant context refused: %',
        coalesce((accessweaver_private.verify_tenant_context(context)).failure, 'bad signature')
        USING ERRCODE = 'invalid_authorization_specification';
END
$$;

COMMENT ON FUNCTION accessweaver.set_tenant_context(text) IS
    'Applies a signed tenant context to the current transaction and returns its tenant; raises 28000 naming why a '
    'context is refused, 55000 naming the setting that makes the session unsafe.';
