import type { Client } from 'pg';
import { APP_LOGIN, READONLY_LOGIN } from '../config/environments';

/** A per-role setting stored for a login (ALTER ROLE ... SET), as pg_db_role_setting holds it. */
export interface LoginSetting {
  readonly role: string;
  /** null: for every database. */
  readonly database: string | null;
  readonly setting: string;
  /** The login is a member of readonly_role. */
  readonly readonly: boolean;
}

// What the migrations set (0003, copied to the rotation clones by 0006), and nothing else is expected: a login
// can store settings for itself (ALTER ROLE ... SET row_security = off, a search_path of its choosing), which
// every later session then starts with.
const SEARCH_PATH = 'search_path=accessweaver, public';
const READ_ONLY_DEFAULT = 'default_transaction_read_only=on';

/**
 * Settings stored for the logins and every other member of application_role or readonly_role, for every
 * database or for this one. pg_db_role_setting is readable by every role, so the application login can run it.
 */
export async function loginSettings(client: Client): Promise<LoginSetting[]> {
  const { rows } = await client.query<LoginSetting>(
    `WITH RECURSIVE members (oid, readonly) AS (
         SELECT m.member, g.rolname = 'readonly_role'
           FROM pg_catalog.pg_auth_members m JOIN pg_catalog.pg_roles g ON g.oid = m.roleid
          WHERE g.rolname IN ('application_role', 'readonly_role')
         UNION
         SELECT m.member, members.readonly FROM pg_catalog.pg_auth_members m JOIN members ON m.roleid = members.oid
     )
     SELECT r.rolname AS role, d.datname AS database, c.config AS setting,
            EXISTS (SELECT FROM members WHERE members.oid = r.oid AND members.readonly) AS readonly
       FROM pg_catalog.pg_db_role_setting s
       JOIN pg_catalog.pg_roles r ON r.oid = s.setrole
       LEFT JOIN pg_catalog.pg_database d ON d.oid = s.setdatabase
      CROSS JOIN LATERAL unnest(s.setconfig) AS c (config)
      WHERE (r.oid IN (SELECT oid FROM members) OR r.rolname IN ($1, $2))
        AND (s.setdatabase = 0 OR d.datname = current_database())
      ORDER BY 1, 2 NULLS FIRST, 3`,
    [APP_LOGIN, READONLY_LOGIN],
  );
  return rows;
}

/** The settings the migrations make; anything else on a login is a finding. */
export function isExpectedLoginSetting(setting: LoginSetting, currentDatabase: string): boolean {
  if (setting.setting === SEARCH_PATH) return setting.database === currentDatabase;
  if (setting.setting === READ_ONLY_DEFAULT) return setting.readonly && setting.database === null;
  return false;
}

export function describeLoginSetting(setting: LoginSetting): string {
  return (
    `${setting.role}: ${setting.setting} (` +
    `${setting.database === null ? 'every database' : `database ${setting.database}`})`
  );
}
