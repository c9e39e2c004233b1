-- The unsafe-session refusal as a call of its own, which a client makes before it sends the context.
--
-- set_tenant_context() refuses an unsafe session (0012), but only once its statement has been planned and its
-- argument bound: with debug_print_plan on (an injected SET on a pooled session), the plan tree of the refused
-- `SELECT accessweaver.set_tenant_context($1)` carries the context as a constant, and with
-- log_parameter_max_length_on_error set, its error carries the bound context on a CONTEXT line. Only
-- log_error_verbosity = terse kept both out of the log. accessweaver.assert_safe_session() takes no argument:
-- withTenant() sends it in the same message as BEGIN, so a poisoned session refuses before the context is sent.
-- set_tenant_context() runs the same check, for clients that call it alone.

-- The one place the refusal is raised (55000, naming the setting); unsafe_session_setting() holds the checks.
CREATE FUNCTION accessweaver.assert_safe_session()
RETURNS void
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict error
DECLARE
    unsafe text := accessweaver_private.unsafe_session_setting();
BEGIN
    IF unsafe IS NOT NULL THEN
        RAISE EXCEPTION 'tenant context refused: unsafe session: %', unsafe
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
END
$$;

COMMENT ON FUNCTION accessweaver.assert_safe_session() IS
    'Raises 55000 naming the setting when the session would leak a tenant context applied on it; '
    'set_tenant_context runs it first. Takes no argument, so a client can call it before sending a context.';

REVOKE ALL ON FUNCTION accessweaver.assert_safe_session() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION accessweaver.assert_safe_session()
    TO application_role, readonly_role, accessweaver_operator;

-- 0012's function, the refusal now through assert_safe_session().
CREATE OR REPLACE FUNCTION accessweaver.set_tenant_context(context text)
RETURNS uuid
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
#variable_conflict error
DECLARE
    stored text;
    tenant uuid;
BEGIN
    PERFORM accessweaver.assert_safe_session();
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
