-- Signed tenant context: the tenant of a transaction is whatever a context signed with a key the
-- logins cannot read says, verified on every query. A setting the login chooses itself (the
-- app.current_tenant_id of 0002) selects nothing any more.
--
-- Format (docs/database.md specifies it with test vectors):
--   awtc1.<key version>.<tenant uuid>.<actor uuid or empty>.<expiry, unix seconds>.<signature>
-- signature = lowercase hex of HMAC-SHA-256(key, everything before the last dot). Every field has
-- exactly one spelling (lowercase, no leading zeros), so one set of claims has one context string.
--
-- Every function below is SECURITY DEFINER, owned by the migrating role, and pins search_path so a
-- login's own search_path cannot substitute an operator or function.

-- No login has USAGE on this schema: the key table, the verifier and pgcrypto's functions live here.
CREATE SCHEMA accessweaver_private;
REVOKE ALL ON SCHEMA accessweaver_private FROM PUBLIC;

-- HMAC through pgcrypto (trusted since PostgreSQL 13; available on RDS). A database that already has
-- pgcrypto keeps it where it is; the wrapper names that schema explicitly.
DO $$
DECLARE
    pgcrypto_schema name;
BEGIN
    SELECT n.nspname INTO pgcrypto_schema
      FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace
     WHERE e.extname = 'pgcrypto';
    IF pgcrypto_schema IS NULL THEN
        CREATE EXTENSION pgcrypto SCHEMA accessweaver_private;
        pgcrypto_schema := 'accessweaver_private';
    END IF;
    -- A single-expression SQL function without SET, no less volatile than its body (convert_to is
    -- STABLE): inlined into its callers, so it costs no call of its own.
    EXECUTE format(
        'CREATE FUNCTION accessweaver_private.hmac_sha256(message text, key bytea) RETURNS bytea '
        'LANGUAGE sql STABLE STRICT PARALLEL SAFE '
        'AS $body$ SELECT %I.hmac(pg_catalog.convert_to(message, ''UTF8''), key, ''sha256''::text) $body$',
        pgcrypto_schema);
END
$$;

-- version: what a context names. valid_until NULL marks the one current key (it signs and verifies);
-- a retired key verifies until valid_until, so contexts signed just before a rotation keep working.
CREATE TABLE accessweaver_private.tenant_context_keys (
    version     integer     PRIMARY KEY CHECK (version BETWEEN 1 AND 999999999),
    key         bytea       NOT NULL CHECK (octet_length(key) = 32),
    created_at  timestamptz NOT NULL DEFAULT now(),
    valid_until timestamptz
);
CREATE UNIQUE INDEX tenant_context_keys_one_current ON accessweaver_private.tenant_context_keys ((true))
    WHERE valid_until IS NULL;
REVOKE ALL ON accessweaver_private.tenant_context_keys FROM PUBLIC;

-- A UUID in the one spelling the format allows: lowercase 8-4-4-4-12. Checked without a bounded
-- regular expression ([0-9a-f]{8}...): PostgreSQL's engine takes microseconds per such match, and
-- this runs on every query. Inlined into its caller (single expression, no SET).
CREATE FUNCTION accessweaver_private.is_canonical_uuid(value text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$
    SELECT pg_catalog.length(value) = 36
       AND pg_catalog.translate(value, '0123456789abcdef', '') = '----'
       AND pg_catalog.substr(value, 9, 1) || pg_catalog.substr(value, 14, 1)
           || pg_catalog.substr(value, 19, 1) || pg_catalog.substr(value, 24, 1) = '----'
$$;

-- The whole verification, in one place. Not callable by any login (schema and EXECUTE revoked);
-- the SECURITY DEFINER functions below call it with their owner's rights. Every field is checked
-- before anything is cast, so no input can raise an error; the signature is checked before the
-- expiry, so "expired" is only ever said of a genuine context. It has no SET clause of its own
-- (that would cost a settings save and restore per query): its only callers pin search_path.
CREATE FUNCTION accessweaver_private.verify_tenant_context(
    context text, OUT tenant_id uuid, OUT actor_id uuid, OUT failure text)
LANGUAGE plpgsql
STABLE
PARALLEL SAFE
AS $$
DECLARE
    field text[];
    signing_key bytea;
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
    SELECT k.key INTO signing_key
      FROM accessweaver_private.tenant_context_keys k
     WHERE k.version = field[2]::integer
       AND (k.valid_until IS NULL OR k.valid_until > statement_timestamp());
    IF signing_key IS NULL THEN
        failure := 'unknown key version';
        RETURN;
    END IF;
    IF encode(accessweaver_private.hmac_sha256(left(context, -65), signing_key), 'hex') <> field[6] THEN
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

-- Replaces 0002's: same name and signature, so the policies of 0004 keep calling it (once per query,
-- as an initPlan). It reads the context that set_tenant_context() stored in the transaction-local
-- setting accessweaver.tenant_context and verifies it again: any login can write that setting, so
-- nothing about it is trusted. No state is kept between queries, so it works the same on a replica
-- in a read-only transaction, and a context that expires mid-transaction stops selecting rows.
--
-- This is the per-query path, so it checks only what it needs before the signature (six fields, the
-- prefix, a version that casts safely) and compares the signature before it casts anything else:
-- a context whose signature matches was written by a holder of the key, and both issuers write
-- only the canonical form. It never raises; whatever does not verify is NULL. The full format
-- check, with reasons, is verify_tenant_context's (set_tenant_context, current_actor_id).
CREATE OR REPLACE FUNCTION accessweaver.current_tenant_id()
RETURNS uuid
LANGUAGE plpgsql
STABLE
PARALLEL SAFE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    context text := current_setting('accessweaver.tenant_context', true);
    field text[] := string_to_array(context, '.');
    signing_key bytea;
BEGIN
    IF cardinality(field) IS DISTINCT FROM 6 OR field[1] <> 'awtc1'
       OR length(field[2]) > 9 OR field[2] !~ '^[1-9][0-9]*$'
       OR length(field[5]) > 12 OR field[5] !~ '^[1-9][0-9]*$' THEN
        RETURN NULL;
    END IF;
    SELECT k.key INTO signing_key
      FROM accessweaver_private.tenant_context_keys k
     WHERE k.version = field[2]::integer
       AND (k.valid_until IS NULL OR k.valid_until > statement_timestamp());
    IF encode(accessweaver_private.hmac_sha256(left(context, -65), signing_key), 'hex') = field[6]
       AND field[5]::bigint > extract(epoch FROM statement_timestamp()) THEN
        RETURN field[3]::uuid;
    END IF;
    RETURN NULL;
END
$$;

COMMENT ON FUNCTION accessweaver.current_tenant_id() IS
    'Tenant of the signed context of the current transaction (accessweaver.set_tenant_context); NULL when there is none or it does not verify.';

-- The acting user of the verified context, when the issuer put one in; NULL otherwise.
CREATE FUNCTION accessweaver.current_actor_id()
RETURNS uuid
LANGUAGE plpgsql
STABLE
PARALLEL SAFE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN (accessweaver_private.verify_tenant_context(current_setting('accessweaver.tenant_context', true))).actor_id;
END
$$;

COMMENT ON FUNCTION accessweaver.current_actor_id() IS
    'Acting user of the signed context of the current transaction; NULL when the context names none or does not verify.';

-- What the logins call at the start of each transaction. A bad context is an error naming the
-- reason, so a misconfigured issuer is found at once instead of as empty results.
CREATE FUNCTION accessweaver.set_tenant_context(context text)
RETURNS uuid
LANGUAGE plpgsql
VOLATILE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    verified record;
BEGIN
    verified := accessweaver_private.verify_tenant_context(context);
    IF verified.failure IS NOT NULL THEN
        RAISE EXCEPTION 'tenant context refused: %', verified.failure
            USING ERRCODE = 'invalid_authorization_specification';
    END IF;
    PERFORM set_config('accessweaver.tenant_context', context, true);
    RETURN verified.tenant_id;
END
$$;

COMMENT ON FUNCTION accessweaver.set_tenant_context(text) IS
    'Applies a signed tenant context to the current transaction and returns its tenant; raises 28000 naming why a context is refused.';

-- Support work and tests: operators sign with the current key. The lifetime is bounded so that a
-- context pasted into a ticket is useless by the next day.
CREATE FUNCTION accessweaver.issue_tenant_context(tenant_id uuid, ttl interval, actor_id uuid DEFAULT NULL)
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
    SELECT k.version, k.key INTO current_key
      FROM accessweaver_private.tenant_context_keys k WHERE k.valid_until IS NULL;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no tenant context key is installed (accessweaver-rds setup-database installs it)'
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    payload := format('awtc1.%s.%s.%s.%s', current_key.version, tenant_id, coalesce(actor_id::text, ''),
                      floor(extract(epoch FROM clock_timestamp() + ttl))::bigint);
    RETURN payload || '.' || encode(accessweaver_private.hmac_sha256(payload, current_key.key), 'hex');
END
$$;

-- Installs a key version (accessweaver-rds setup-database and rotate-tenant-context-key call it).
-- Idempotent for the current version; a new, higher version becomes current and the previous one
-- keeps verifying for `overlap` (contexts already signed with it, issuers not yet restarted).
-- Versions whose overlap has ended are deleted: they can never verify again. The key arrives as a
-- bind parameter of a SELECT: log_statement = 'mod' records data-modifying statements with their
-- parameters, never a SELECT. Only the owner (the master user) may call it.
CREATE FUNCTION accessweaver_private.install_tenant_context_key(new_version integer, new_key bytea, overlap interval)
RETURNS text
LANGUAGE plpgsql
VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    existing record;
    newest integer;
BEGIN
    IF overlap IS NULL OR overlap < interval '0' THEN
        RAISE EXCEPTION 'overlap % is not a non-negative interval', overlap USING ERRCODE = 'invalid_parameter_value';
    END IF;
    LOCK TABLE accessweaver_private.tenant_context_keys IN SHARE ROW EXCLUSIVE MODE;
    SELECT k.key = new_key AS same_key, k.valid_until INTO existing
      FROM accessweaver_private.tenant_context_keys k WHERE k.version = new_version;
    IF FOUND THEN
        IF NOT existing.same_key THEN
            RAISE EXCEPTION 'tenant context key version % is already installed with a different key', new_version
                USING ERRCODE = 'unique_violation';
        END IF;
        IF existing.valid_until IS NOT NULL THEN
            RAISE EXCEPTION 'tenant context key version % is retired (verifies until %): a newer version is current',
                new_version, existing.valid_until USING ERRCODE = 'object_not_in_prerequisite_state';
        END IF;
        RETURN 'already installed';
    END IF;
    SELECT max(k.version) INTO newest FROM accessweaver_private.tenant_context_keys k;
    IF newest > new_version THEN
        RAISE EXCEPTION 'tenant context key version % is older than the installed version %', new_version, newest
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    DELETE FROM accessweaver_private.tenant_context_keys k WHERE k.valid_until <= statement_timestamp();
    UPDATE accessweaver_private.tenant_context_keys k SET valid_until = clock_timestamp() + overlap
     WHERE k.valid_until IS NULL;
    INSERT INTO accessweaver_private.tenant_context_keys (version, key) VALUES (new_version, new_key);
    RETURN 'installed';
END
$$;

REVOKE ALL ON FUNCTION accessweaver_private.install_tenant_context_key(integer, bytea, interval) FROM PUBLIC;
REVOKE ALL ON FUNCTION accessweaver_private.hmac_sha256(text, bytea) FROM PUBLIC;
REVOKE ALL ON FUNCTION accessweaver_private.is_canonical_uuid(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION accessweaver_private.verify_tenant_context(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION accessweaver.current_actor_id() FROM PUBLIC;
REVOKE ALL ON FUNCTION accessweaver.set_tenant_context(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION accessweaver.issue_tenant_context(uuid, interval, uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION accessweaver.current_actor_id(), accessweaver.set_tenant_context(text)
    TO application_role, readonly_role, accessweaver_operator;
-- Minting is for operators only: stated for each role, so an earlier grant cannot survive.
REVOKE ALL ON FUNCTION accessweaver.issue_tenant_context(uuid, interval, uuid)
    FROM application_role, readonly_role, accessweaver_app, accessweaver_readonly;
GRANT EXECUTE ON FUNCTION accessweaver.issue_tenant_context(uuid, interval, uuid) TO accessweaver_operator;
