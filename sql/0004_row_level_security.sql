-- Row-level security on every table of the schema.
--
-- FORCE: the table owner (the master user) is subject to the policies too; without it an owner
-- bypasses them silently, which is how a login that ends up owning a table escapes isolation.
--
-- Tenant policies name both application_role and readonly_role (privileges from 0003 decide what
-- each may do; the policy decides which rows): a role with no policy would see nothing. The tenant
-- is read once per query through an initPlan: (SELECT accessweaver.current_tenant_id()), which
-- lets the planner use the tenant_id indexes.
-- USING and WITH CHECK are the same, so a row can neither be read nor written outside the tenant,
-- nor moved to another tenant by an UPDATE.

ALTER TABLE accessweaver.tenants ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
ALTER TABLE accessweaver.users ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
ALTER TABLE accessweaver.roles ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
ALTER TABLE accessweaver.user_roles ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;

-- A tenant sees its own tenants row, and only that one: it may not list, rename or delete the others.
CREATE POLICY tenant_isolation_tenants ON accessweaver.tenants
    FOR SELECT TO application_role, readonly_role
    USING (id = (SELECT accessweaver.current_tenant_id()));

CREATE POLICY tenant_isolation_users ON accessweaver.users
    FOR ALL TO application_role, readonly_role
    USING (tenant_id = (SELECT accessweaver.current_tenant_id()))
    WITH CHECK (tenant_id = (SELECT accessweaver.current_tenant_id()));

CREATE POLICY tenant_isolation_roles ON accessweaver.roles
    FOR ALL TO application_role, readonly_role
    USING (tenant_id = (SELECT accessweaver.current_tenant_id()))
    WITH CHECK (tenant_id = (SELECT accessweaver.current_tenant_id()));

CREATE POLICY tenant_isolation_user_roles ON accessweaver.user_roles
    FOR ALL TO application_role, readonly_role
    USING (tenant_id = (SELECT accessweaver.current_tenant_id()))
    WITH CHECK (tenant_id = (SELECT accessweaver.current_tenant_id()));

-- Operators (the master user, through membership granted in 0003) manage all tenants.
CREATE POLICY operator_all_tenants ON accessweaver.tenants
    FOR ALL TO accessweaver_operator USING (true) WITH CHECK (true);
CREATE POLICY operator_all_users ON accessweaver.users
    FOR ALL TO accessweaver_operator USING (true) WITH CHECK (true);
CREATE POLICY operator_all_roles ON accessweaver.roles
    FOR ALL TO accessweaver_operator USING (true) WITH CHECK (true);
CREATE POLICY operator_all_user_roles ON accessweaver.user_roles
    FOR ALL TO accessweaver_operator USING (true) WITH CHECK (true);
