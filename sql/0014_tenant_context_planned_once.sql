-- The policies read the verified tenant through accessweaver.current_tenant_id() instead of the view.
--
-- Written into each policy (0011), the view was expanded and planned again in every statement that
-- is planned: unnamed statements (node-pg without a name, pgjdbc with prepareThreshold=0, anything
-- behind PgBouncer before 1.21) and the simple protocol. Its key table, the inlined HMAC function,
-- the LATERAL subquery and the expression cost 60 to 75 µs of planning per protected table, against
-- about 10 µs of execution; run through the function, about 20 µs in all. The policies call a plpgsql
-- function: the statement plans a one-call initPlan, and the function runs the view through the
-- plan plpgsql keeps for the session (planned on its first call, not on every statement). What it
-- verifies is the view unchanged, with every condition later migrations give it; nothing is kept
-- between calls but the plan, which holds no value of the key or of the context.
--
-- current_tenant_id() stays 0011's: plpgsql with its caller's rights and no SET clause (a SET would
-- save and restore the setting on every call), reading the view; the view reads the key with its
-- owner's rights as before, and the function runs nothing the login could not run itself.

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
