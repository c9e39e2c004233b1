-- The signed context is verified by a view instead of a SECURITY DEFINER function.
--
-- 0008 verified the context in plpgsql on every query: a security-definer call, a search_path
-- save and restore, an SPI query for the key and pgcrypto, about 37 µs a protected table. Here
-- the policies read accessweaver.tenant_context, a view that the planner makes part of the
-- query's own plan (an initPlan): the key row is scanned by the executor that is already running,
-- and the HMAC is PostgreSQL's built-in sha256 over the key's two padded blocks (RFC 2104),
-- computed once when a key is installed. Nothing is kept between queries, as before.
--
-- Why the key stays out of reach: a view reads its tables with its owner's rights, and this one
-- shows only the tenant and actor of a context that verifies. The key table itself stays in
-- accessweaver_private, where no login has any privilege.

-- One 64-byte HMAC block: the key, zero-padded to SHA-256's block size, XOR `pad` (0x36 inner,
-- 0x5c outer). Keys are 32 bytes (a CHECK of 0008), never longer than a block.
CREATE FUNCTION accessweaver_private.hmac_key_block(key bytea, pad integer)
RETURNS bytea
LANGUAGE plpgsql
IMMUTABLE
STRICT
PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    block bytea := key || decode(repeat('00', 64 - octet_length(key)), 'hex');
BEGIN
    FOR i IN 0..63 LOOP
        block := set_byte(block, i, get_byte(block, i) # pad);
    END LOOP;
    RETURN block;
END
$$;

-- HMAC-SHA-256 of `message` from the key's blocks: the one HMAC of the schema (the view, the
-- reasons of set_tenant_context and issue_tenant_context all use it). Pure arithmetic, so the
-- logins may run it: without the blocks it computes nothing they could not compute themselves.
-- A single expression without SET: inlined into the view's plan.
CREATE FUNCTION accessweaver_private.hmac_sha256_blocks(message text, inner_block bytea, outer_block bytea)
RETURNS bytea
LANGUAGE sql
STABLE
PARALLEL SAFE
AS $$
    SELECT pg_catalog.sha256(outer_block OPERATOR(pg_catalog.||)
                             pg_catalog.sha256(inner_block OPERATOR(pg_catalog.||) pg_catalog.convert_to(message, 'UTF8')))
$$;

-- Derived once per key: the blocks, the prefix a context signed with it starts with, and the end
-- of its validity in Unix seconds (the current key verifies until it is retired).
ALTER TABLE accessweaver_private.tenant_context_keys
    ADD COLUMN inner_block bytea GENERATED ALWAYS AS (accessweaver_private.hmac_key_block(key, 54)) STORED,
    ADD COLUMN outer_block bytea GENERATED ALWAYS AS (accessweaver_private.hmac_key_block(key, 92)) STORED,
    ADD COLUMN context_prefix text GENERATED ALWAYS AS ('awtc1.' || version::text || '.') STORED,
    ADD COLUMN verifies_until_epoch float8 GENERATED ALWAYS AS (
        CASE WHEN valid_until IS NULL THEN 'infinity'::float8
             ELSE extract(epoch FROM valid_until - '1970-01-01 00:00:00+00'::timestamptz)::float8 END) STORED;

-- The verified context of the current transaction: one row when the context that
-- set_tenant_context() stored verifies, none otherwise. It never raises: nothing of the context is
-- cast before its signature matches, and a context whose signature matches was written by a holder
-- of the key, in the canonical form. The prefix names the key (at most one row matches it), the
-- signature is the sixth field (a context with another separator before it has no sixth field and
-- fails), and the expiry is read only from a signed context. The setting is read once (OFFSET 0 keeps the planner
-- from copying the call into every use).
--
-- No security_barrier: a login's own condition on this view can only name its two columns, which
-- come from the login's own setting; no column, and so no condition, ever carries the key.
CREATE VIEW accessweaver.tenant_context AS
SELECT pg_catalog.split_part(s.context, '.', 3)::pg_catalog.uuid AS tenant_id,
       NULLIF(pg_catalog.split_part(s.context, '.', 4), '')::pg_catalog.uuid AS actor_id
  FROM accessweaver_private.tenant_context_keys k,
       LATERAL (SELECT pg_catalog.current_setting('accessweaver.tenant_context', true) AS context OFFSET 0) s
 WHERE CASE
           WHEN pg_catalog.encode(accessweaver_private.hmac_sha256_blocks(
                    pg_catalog.left(s.context, -65), k.inner_block, k.outer_block), 'hex')
                = pg_catalog.split_part(s.context, '.', 6)
           THEN LEAST(pg_catalog.split_part(s.context, '.', 5)::pg_catalog.float8, k.verifies_until_epoch)
                > pg_catalog.date_part('epoch', pg_catalog.statement_timestamp())
           ELSE false
       END
   AND pg_catalog.starts_with(s.context, k.context_prefix);

COMMENT ON VIEW accessweaver.tenant_context IS
    'Tenant and actor of the signed context of the current transaction (accessweaver.set_tenant_context); no row when there is none or it does not verify.';

REVOKE ALL ON accessweaver.tenant_context FROM PUBLIC;
GRANT SELECT ON accessweaver.tenant_context
    TO application_role, readonly_role, accessweaver_operator, accessweaver_audit_writer;
REVOKE ALL ON FUNCTION accessweaver_private.hmac_key_block(bytea, integer) FROM PUBLIC;
REVOKE ALL ON FUNCTION accessweaver_private.hmac_sha256_blocks(text, bytea, bytea) FROM PUBLIC;
-- The view's readers plan it with their own rights, and the planner inlines only what they may run.
GRANT EXECUTE ON FUNCTION accessweaver_private.hmac_sha256_blocks(text, bytea, bytea)
    TO application_role, readonly_role, accessweaver_operator, accessweaver_audit_writer;

-- The policies read the view once per protected table of a query (an initPlan).
ALTER POLICY tenant_isolation_tenants ON accessweaver.tenants
    USING (id = (SELECT t.tenant_id FROM accessweaver.tenant_context t));
ALTER POLICY tenant_isolation_users ON accessweaver.users
    USING (tenant_id = (SELECT t.tenant_id FROM accessweaver.tenant_context t))
    WITH CHECK (tenant_id = (SELECT t.tenant_id FROM accessweaver.tenant_context t));
ALTER POLICY tenant_isolation_roles ON accessweaver.roles
    USING (tenant_id = (SELECT t.tenant_id FROM accessweaver.tenant_context t))
    WITH CHECK (tenant_id = (SELECT t.tenant_id FROM accessweaver.tenant_context t));
ALTER POLICY tenant_isolation_user_roles ON accessweaver.user_roles
    USING (tenant_id = (SELECT t.tenant_id FROM accessweaver.tenant_context t))
    WITH CHECK (tenant_id = (SELECT t.tenant_id FROM accessweaver.tenant_context t));
ALTER POLICY tenant_isolation_audit_events ON accessweaver.audit_events
    USING (tenant_id = (SELECT t.tenant_id FROM accessweaver.tenant_context t));

-- Same names and results as before, for code and SQL that call them; now they read the view with
-- their caller's rights instead of verifying as the owner.
CREATE OR REPLACE FUNCTION accessweaver.current_tenant_id()
RETURNS uuid
LANGUAGE plpgsql
STABLE
PARALLEL SAFE
AS $$
BEGIN
    RETURN (SELECT t.tenant_id FROM accessweaver.tenant_context t);
END
$$;

CREATE OR REPLACE FUNCTION accessweaver.current_actor_id()
RETURNS uuid
LANGUAGE plpgsql
STABLE
PARALLEL SAFE
AS $$
BEGIN
    RETURN (SELECT t.actor_id FROM accessweaver.tenant_context t);
END
$$;

-- The reasons of set_tenant_context(): the same checks with the same HMAC as the view.
CREATE OR REPLACE FUNCTION accessweaver_private.verify_tenant_context(
    context text, OUT tenant_id uuid, OUT actor_id uuid, OUT failure text)
LANGUAGE plpgsql
STABLE
PARALLEL SAFE
AS $$
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
       AND (k.valid_until IS NULL OR k.valid_until > statement_timestamp());
    IF NOT FOUND THEN
        failure := 'unknown key version';
        RETURN;
    END IF;
    IF encode(accessweaver_private.hmac_sha256_blocks(left(context, -65), signing_key.inner_block,
                                                      signing_key.outer_block), 'hex') <> field[6] THEN
        failure := 'bad signature';
        RETURN;
    END IF;
    IF field[5]::bigint <= extract(epoch FROM statement_timestamp()) THEN
        failure := 'expired';
        RETURN;
    END IF;
    tenant_id := field[3]::uuid;
    actor_id := nullif(field[4], '')::uuid;
END
$$;

-- What the logins call at the start of each transaction: the context is stored, then accepted when the
-- view verifies it, as every query of the transaction will. Only a refused context pays for the full
-- check that names the reason (before, every call did, about 65 µs a transaction).
CREATE OR REPLACE FUNCTION accessweaver.set_tenant_context(context text)
RETURNS uuid
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    tenant uuid;
BEGIN
    PERFORM set_config('accessweaver.tenant_context', context, true);
    SELECT t.tenant_id INTO tenant FROM accessweaver.tenant_context t;
    IF tenant IS NOT NULL THEN
        RETURN tenant;
    END IF;
    -- The error undoes the setting with the statement. A context the view refuses but the full check
    -- would accept cannot exist (same HMAC, same expiry); it would be refused as a bad signature.
    RAISE EXCEPTION 'tenant context refused: %',
        coalesce((accessweaver_private.verify_tenant_context(context)).failure, 'bad signature')
        USING ERRCODE = 'invalid_authorization_specification';
END
$$;

CREATE OR REPLACE FUNCTION accessweaver.issue_tenant_context(tenant_id uuid, ttl interval, actor_id uuid DEFAULT NULL)
RETURNS text
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    current_key record;
    payload text;
BEGIN
    IF tenant_id IS NULL THEN
        RAISE EXCEPTION 'issue_tenant_context: tenant_id is NULL' USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF ttl IS NULL OR ttl <= interval '0' OR ttl > interval '1 day' THEN
        RAISE EXCEPTION 'issue_tenant_context: ttl % is not between 0 and 1 day', ttl
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    SELECT k.version, k.inner_block, k.outer_block INTO current_key
      FROM accessweaver_private.tenant_context_keys k WHERE k.valid_until IS NULL;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no tenant context key is installed (accessweaver-rds setup-database installs it)'
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    payload := format('awtc1.%s.%s.%s.%s', current_key.version, tenant_id, coalesce(actor_id::text, ''),
                      floor(extract(epoch FROM clock_timestamp() + ttl))::bigint);
    RETURN payload || '.'
        || encode(accessweaver_private.hmac_sha256_blocks(payload, current_key.inner_block, current_key.outer_block),
                  'hex');
END
$$;

-- pgcrypto's HMAC is no longer used (the extension stays: other code of a database may use it).
DROP FUNCTION accessweaver_private.hmac_sha256(text, bytea);
