-- The policies read the verified tenant through accessweaver.current_tenant_id() instead of the view.
--
-- Written into each policy (0011), the view was expanded and planned again in every statement that
-- is planned: unnamed statements (node-pg without a name, pgjdbc with prepareThreshold=0, anything
-- behind PgBouncer before 1.21) and the simple protocol. Its key table, the inlined HMAC function,
-- the LATERAL subquery and the expression cost about 55 µs of planning per protected table, 130 µs
-- for a query reading two, against about 15 µs of execution. The policies now call a plpgsql
-- function: the statement plans a one-call initPlan, and the function runs the view through the
-- plan plpgsql keeps for the session (planned on the first call, not on every statement). What it
-- verifies is the view unchanged, with every condition later migrations give it; nothing is kept
-- between calls but the plan, which holds no value of the key or of the context.
--
-- Caller's rights and no SET clause: the view reads the key with its owner's rights as before, the
-- function runs nothing the login could not run itself, and every name in it is schema-qualified.
CREATE OR REPLACE FUNCTION accessweaver.current_tenant_id()
RETURNS uuid
LANGUAGE plpgsql
STABLE
PARALLEL SAFE
AS $$
DECLARE
    tenant uuid;
BEGIN
    -- SELECT INTO rather than RETURN (SELECT ...): one plan node fewer on every call.
    SELECT t.tenant_id INTO tenant FROM accessweaver.tenant_context t;
    RETURN tenant;
END
$$;

COMMENT ON FUNCTION accessweaver.current_tenant_id() IS
    'Tenant of the verified signed context of the current transaction (view accessweaver.tenant_context), or NULL; what the tenant policies compare with.';

-- Once per protected table of a statement, as before (an initPlan), now a single function call to plan.
ALTER POLICY tenant_isolation_tenants ON accessweaver.tenants
    USING (id = (SELECT accessweaver.current_tenant_id()));
ALTER POLICY tenant_isolation_users ON accessweaver.users
    USING (tenant_id = (SELECT accessweaver.current_tenant_id()))
    WITH CHECK (tenant_id = (SELECT accessweaver.current_tenant_id()));
ALTER POLICY tenant_isolation_roles ON accessweaver.roles
    USING (tenant_id = (SELECT accessweaver.current_tenant_id()))
    WITH CHECK (tenant_id = (SELECT accessweaver.current_tenant_id()));
ALTER POLICY tenant_isolation_user_roles ON accessweaver.user_roles
    USING (tenant_id = (SELECT accessweaver.current_tenant_id()))
    WITH CHECK (tenant_id = (SELECT accessweaver.current_tenant_id()));
ALTER POLICY tenant_isolation_audit_events ON accessweaver.audit_events
    USING (tenant_id = (SELECT accessweaver.current_tenant_id()));
