-- Schema and tenant-scoped tables.
--
-- Names (schema accessweaver; tenants, users, roles, user_roles) are the ones the application's
-- queries use. Every name is schema-qualified: a migration must not depend on, or change, the
-- session's search_path (the runner reuses one connection for every file).
--
-- No BEGIN/COMMIT here: the runner wraps each file in its own transaction.

-- The migrating role owns every object. It must be the master user (or a superuser), never an
-- application login: an owner that is also a tenant-facing login would be the weakest link.
DO $$
BEGIN
    IF NOT (SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = current_user)
       AND EXISTS (
           SELECT FROM pg_catalog.pg_roles r
           WHERE r.rolname IN ('application_role', 'readonly_role', 'accessweaver_app', 'accessweaver_readonly')
             AND pg_catalog.pg_has_role(current_user, r.oid, 'MEMBER'))
    THEN
        RAISE EXCEPTION 'accessweaver migrations must run as the master user, not as application login %', current_user;
    END IF;
END
$$;

CREATE SCHEMA IF NOT EXISTS accessweaver;

-- gen_random_uuid() is built in since PostgreSQL 13, so no extension (and no superuser) is needed.
CREATE TABLE accessweaver.tenants (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name       varchar(100) NOT NULL,
    subdomain  varchar(50)  NOT NULL UNIQUE,
    plan       varchar(20)  NOT NULL DEFAULT 'free',
    status     varchar(20)  NOT NULL DEFAULT 'active',
    settings   jsonb        NOT NULL DEFAULT '{}',
    created_at timestamptz  NOT NULL DEFAULT now(),
    updated_at timestamptz  NOT NULL DEFAULT now()
);

CREATE TABLE accessweaver.users (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id   uuid NOT NULL REFERENCES accessweaver.tenants (id) ON DELETE CASCADE,
    email       varchar(255) NOT NULL,
    external_id varchar(255),
    metadata    jsonb        NOT NULL DEFAULT '{}',
    created_at  timestamptz  NOT NULL DEFAULT now(),
    updated_at  timestamptz  NOT NULL DEFAULT now(),
    CONSTRAINT users_tenant_email_key UNIQUE (tenant_id, email),
    CONSTRAINT users_tenant_external_id_key UNIQUE (tenant_id, external_id),
    -- Target of the composite foreign keys below: a reference carries its tenant with it.
    CONSTRAINT users_tenant_id_id_key UNIQUE (tenant_id, id)
);

CREATE TABLE accessweaver.roles (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    tenant_id   uuid NOT NULL REFERENCES accessweaver.tenants (id) ON DELETE CASCADE,
    name        varchar(100) NOT NULL,
    description text,
    permissions text[]       NOT NULL DEFAULT '{}', -- "resource:action"
    metadata    jsonb        NOT NULL DEFAULT '{}',
    created_at  timestamptz  NOT NULL DEFAULT now(),
    updated_at  timestamptz  NOT NULL DEFAULT now(),
    CONSTRAINT roles_tenant_name_key UNIQUE (tenant_id, name),
    CONSTRAINT roles_tenant_id_id_key UNIQUE (tenant_id, id)
);

-- tenant_id is stored on the grant itself, so its policy is a plain column comparison (no EXISTS
-- against users for every row), and the composite foreign keys make it impossible for a
-- grant to name a user, role or grantor of another tenant: the referenced row must carry the same
-- tenant_id. Foreign-key checks ignore row-level security, so this holds even for rows a policy hides.
CREATE TABLE accessweaver.user_roles (
    tenant_id  uuid NOT NULL,
    user_id    uuid NOT NULL,
    role_id    uuid NOT NULL,
    granted_by uuid,
    granted_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz,
    metadata   jsonb       NOT NULL DEFAULT '{}',
    -- Leading tenant_id: one tenant's grants, and one user's grants, are each a single index range.
    -- INCLUDE makes both readable from the index alone (an index-only scan over a few adjacent leaf
    -- pages) instead of one heap page per grant, since a tenant's grants are scattered in the heap.
    CONSTRAINT user_roles_pkey PRIMARY KEY (tenant_id, user_id, role_id)
        INCLUDE (expires_at, granted_at, granted_by),
    CONSTRAINT user_roles_user_fkey FOREIGN KEY (tenant_id, user_id)
        REFERENCES accessweaver.users (tenant_id, id) ON DELETE CASCADE,
    CONSTRAINT user_roles_role_fkey FOREIGN KEY (tenant_id, role_id)
        REFERENCES accessweaver.roles (tenant_id, id) ON DELETE CASCADE,
    -- Deleting the grantor keeps the grant and forgets who gave it (PostgreSQL 15 column list:
    -- only granted_by is nulled, never tenant_id).
    CONSTRAINT user_roles_granted_by_fkey FOREIGN KEY (tenant_id, granted_by)
        REFERENCES accessweaver.users (tenant_id, id) ON DELETE SET NULL (granted_by)
);

-- Serve the cascades from roles and users (and "who holds this role").
CREATE INDEX user_roles_tenant_role_idx ON accessweaver.user_roles (tenant_id, role_id);
CREATE INDEX user_roles_tenant_granted_by_idx ON accessweaver.user_roles (tenant_id, granted_by)
    WHERE granted_by IS NOT NULL;
