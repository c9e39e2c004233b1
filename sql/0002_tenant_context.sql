-- current_tenant_id(): the tenant of the current transaction, or NULL.
--
-- The application sets it per transaction with set_config('app.current_tenant_id', $1, true).
-- NULL matches no tenant_id, so "no tenant", an empty setting and a malformed one all mean zero
-- rows, never all rows and never an error. (Once a transaction-local setting has ended, PostgreSQL
-- reports the placeholder as '' rather than NULL; casting that '' to uuid would fail the query.)
--
-- It is a LANGUAGE sql STABLE function with a single expression and no SET clause, so the planner
-- inlines it; policies call it as (select accessweaver.current_tenant_id()) so that it becomes an
-- initPlan evaluated once per query and the comparison can use the tenant_id indexes.
-- Only the canonical 8-4-4-4-12 form is accepted: it is what the application sends, and a
-- pattern check cannot raise, unlike a cast.
CREATE FUNCTION accessweaver.current_tenant_id()
RETURNS uuid
LANGUAGE sql
STABLE
PARALLEL SAFE
AS $$
    SELECT CASE
        WHEN current_setting('app.current_tenant_id', true)
             ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
        THEN current_setting('app.current_tenant_id', true)::uuid
    END
$$;

COMMENT ON FUNCTION accessweaver.current_tenant_id() IS
    'Tenant of the current transaction (set_config(''app.current_tenant_id'', id, true)); NULL when unset, empty or malformed.';
