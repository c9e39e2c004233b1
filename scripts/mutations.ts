/**
 * The mutations `npm run mutants` applies, one at a time, to a scratch copy of the repository. Each names a
 * behaviour a test claims to prove; the mutation breaks that behaviour and at least one of `suites` must fail.
 *
 * `search` is exact text that must occur once in `file`: when the code moves on, a mutation whose text no longer
 * matches is reported STALE (a failure) until it is rewritten against today's code.
 */
export interface Mutation {
  /** Short name, shown in the table. */
  readonly name: string;
  /** What the mutation breaks, in the project's terms. */
  readonly breaks: string;
  /** Repository-relative path of the one file the edits apply to. */
  readonly file: string;
  readonly edits: readonly { readonly search: string; readonly replace: string }[];
  /** Jest suites that must catch it, tried in this order (fastest first); the first failing one is reported. */
  readonly suites: readonly string[];
}

const MODULE_SUITES = ['test/rds/module.test.ts', 'test/rds/constructs.test.ts', 'test/rds/terraform.test.ts'];
const CATALOG_SUITES = ['test/db/catalog.test.ts', 'test/db/isolation.test.ts'];

export const MUTATIONS: readonly Mutation[] = [
  {
    name: 'prod-max-connections',
    breaks: 'prod max_connections 200 -> 5000',
    file: 'src/config/environments.ts',
    edits: [{ search: 'maxConnections: 200,', replace: 'maxConnections: 5000,' }],
    suites: MODULE_SUITES,
  },
  {
    name: 'prod-secret-recovery-window',
    breaks: 'prod credential secrets deleted at once (recovery window 30 -> 0 days)',
    file: 'src/config/environments.ts',
    edits: [{ search: 'secretRecoveryWindowDays: 30,', replace: 'secretRecoveryWindowDays: 0,' }],
    suites: MODULE_SUITES,
  },
  {
    name: 'prod-connections-alarm',
    breaks: 'prod connections alarm threshold 150 -> 4900',
    file: 'src/config/environments.ts',
    edits: [{ search: 'connectionsAlarmThreshold: 150,', replace: 'connectionsAlarmThreshold: 4900,' }],
    suites: MODULE_SUITES,
  },
  {
    name: 'kms-via-service-any',
    breaks: "key policy: kms:ViaService of the secret readers' statements replaced by '*'",
    file: 'src/rds/encryption.ts',
    edits: [
      {
        search: '        values: [`secretsmanager.${region.name}.${partition.dnsSuffix}`],',
        replace: "        values: ['*'],",
      },
    ],
    suites: MODULE_SUITES,
  },
  {
    name: 'static-parameter-unmarked',
    breaks: 'wal_buffers (static) left out of STATIC_PARAMETERS, so applied immediately',
    file: 'src/rds/parameters.ts',
    edits: [{ search: "  'wal_buffers',\n] as const;", replace: '] as const;' }],
    suites: ['test/rds/module.test.ts'],
  },
  {
    name: 'dynamic-parameter-listed-static',
    breaks: 'work_mem (dynamic) listed in STATIC_PARAMETERS, so a caller setting it waits for a reboot',
    file: 'src/rds/parameters.ts',
    edits: [{ search: "  'wal_buffers',\n] as const;", replace: "  'wal_buffers',\n  'work_mem',\n] as const;" }],
    suites: ['test/rds/module.test.ts'],
  },
  {
    name: 'delete-force-ssl',
    breaks: 'parameter rds.force_ssl deleted',
    file: 'src/rds/parameters.ts',
    edits: [{ search: "  { name: 'rds.force_ssl', value: '1' },\n", replace: '' }],
    suites: MODULE_SUITES,
  },
  {
    name: 'delete-connections-alarm',
    breaks: 'the DatabaseConnections alarm deleted',
    file: 'src/config/alarms.ts',
    edits: [
      {
        search: `  {
    logicalId: 'high_connections',
    metric: 'DatabaseConnections',
    comparison: 'GreaterThanThreshold',
    threshold: { field: 'connectionsAlarmThreshold' },
    statistic: 'Average',
    evaluationPeriods: 2,
    description: 'Connections approaching max_connections',
  },
`,
        replace: '',
      },
    ],
    suites: MODULE_SUITES,
  },
  {
    name: 'free-storage-alarm-1-percent',
    breaks: 'free-storage alarm at 1% of the allocated storage instead of 10%',
    file: 'src/config/alarms.ts',
    edits: [
      {
        search: "threshold: { shareOf: 'storage', percent: 10 },",
        replace: "threshold: { shareOf: 'storage', percent: 1 },",
      },
    ],
    suites: MODULE_SUITES,
  },
  {
    name: 'delete-client-egress-rule',
    breaks: 'the client group egress rule to the database group deleted',
    file: 'src/rds/network.ts',
    edits: [
      {
        search: `    address(
      new VpcSecurityGroupEgressRule(this, 'client-to-database', {
        securityGroupId: this.clientSecurityGroup.id,
        referencedSecurityGroupId: this.databaseSecurityGroup.id,
        ipProtocol: 'tcp',
        fromPort: DATABASE_PORT,
        toPort: DATABASE_PORT,
        description: 'PostgreSQL to the AccessWeaver database',
        tags: nameTags('rds-client-to-rds'),
      }),
      'rds_client_to_rds',
    );
`,
        replace: '',
      },
    ],
    suites: MODULE_SUITES,
  },
  {
    name: 'database-ingress-all-ports',
    breaks: 'database group admits the client group on every port',
    file: 'src/rds/network.ts',
    edits: [
      {
        search: `        fromPort: DATABASE_PORT,
        toPort: DATABASE_PORT,
        description: 'PostgreSQL from the client security group',`,
        replace: `        fromPort: 0,
        toPort: 65535,
        description: 'PostgreSQL from the client security group',`,
      },
    ],
    suites: MODULE_SUITES,
  },
  {
    name: 'backup-vault-default-key',
    breaks: 'the backup vault is encrypted with the AWS-managed key instead of the module key',
    file: 'src/rds/backup.ts',
    edits: [{ search: '        kmsKeyArn: props.key.arn,\n', replace: '' }],
    suites: ['test/rds/backup.test.ts', 'test/rds/module.test.ts'],
  },
  {
    name: 'delete-backup-selection',
    breaks: 'the backup plan selects no resource (the primary is never backed up by AWS Backup)',
    file: 'src/rds/backup.ts',
    edits: [{ search: '        resources: [tf.string(props.target)],\n', replace: '        resources: [],\n' }],
    suites: ['test/rds/backup.test.ts', 'test/rds/module.test.ts'],
  },
  {
    name: 'delete-vpc-default-security-group',
    breaks: "the VPC's default security group is no longer emptied",
    file: 'src/stacks/vpc-stack.ts',
    edits: [
      {
        search: `    new DefaultSecurityGroup(this, 'default-security-group', {
      vpcId: this.vpc.id,
      tags: { Name: \`\${name}-default-deny\` },
    });
`,
        replace: '',
      },
    ],
    suites: ['test/stacks/vpc-stack.test.ts'],
  },
  {
    name: 'ecs-decrypt-any-secret',
    breaks: 'an ECS execution role may decrypt every secret of the key, not only its own',
    file: 'src/stacks/ecs-service.ts',
    edits: [
      {
        search:
          "            { test: 'StringEquals', variable: 'kms:EncryptionContext:SecretARN', values: secretArns },\n",
        replace: '',
      },
    ],
    suites: ['test/stacks/ecs-stack.test.ts'],
  },
  {
    name: 'cli-destructive-without-confirmation',
    breaks: 'accessweaver-rds goes ahead with a destructive operation without --yes or a typed identifier',
    file: 'src/cli/confirm.ts',
    edits: [{ search: '  if (options.yes) return;', replace: '  return;' }],
    suites: ['test/cli/restore.test.ts', 'test/cli/scale.test.ts'],
  },
  {
    name: 'cli-dry-run-acts',
    breaks: 'accessweaver-rds --dry-run carries out the plan',
    file: 'src/cli/rds-flows.ts',
    edits: [{ search: '  if (invocation.dryRun === true) {', replace: '  if (invocation.dryRun === true && false) {' }],
    suites: ['test/cli/restore.test.ts', 'test/cli/scale.test.ts'],
  },
  {
    name: 'setup-database-sets-no-passwords',
    breaks: 'setup-database applies the migrations but never sets the login passwords',
    file: 'src/cli/setup-database.ts',
    edits: [
      { search: '          await deps.database.setLoginPasswords(connection.url, passwords, logins);\n', replace: '' },
    ],
    suites: ['test/cli/setup-database.test.ts'],
  },
  {
    name: 'login-password-in-clear',
    breaks: 'setLoginPasswords sends the plaintext password instead of its SCRAM verifier',
    file: 'src/db/logins.ts',
    edits: [
      {
        search: "[logins.app, scramSha256Verifier(passwords.app, 'app')],",
        replace: '[logins.app, passwords.app],',
      },
      {
        search: "[logins.readonly, scramSha256Verifier(passwords.readonly, 'readonly')],",
        replace: '[logins.readonly, passwords.readonly],',
      },
    ],
    suites: ['test/db/logins.test.ts'],
  },
  {
    name: 'login-passwords-without-transaction',
    breaks: 'setLoginPasswords without BEGIN/COMMIT (one password can change alone)',
    file: 'src/db/logins.ts',
    edits: [
      { search: "    await client.query('BEGIN');\n", replace: '' },
      { search: "    await client.query('COMMIT');\n", replace: '' },
    ],
    suites: ['test/db/logins.test.ts'],
  },
  {
    name: 'tenant-pool-without-error-listener',
    breaks: "createTenantPool adds no 'error' listener: a dropped idle connection ends the process",
    file: 'src/db/tenant-pool.ts',
    edits: [{ search: "  pool.on('error', poolErrorListener(logger));\n", replace: '' }],
    suites: ['test/db/tenant-pool.test.ts', 'test/db/connection-drops.test.ts'],
  },
  {
    name: 'pool-error-listener-throws',
    breaks: "the pool's error listener lets its logger's exception escape",
    file: 'src/db/tenant-pool.ts',
    edits: [{ search: '    } catch {\n', replace: '    } finally {\n' }],
    suites: ['test/db/tenant-pool.test.ts'],
  },
  {
    name: 'tenant-pool-without-row-security',
    breaks: 'createTenantPool leaves out the tenant connection options (row_security=on)',
    file: 'src/db/tenant-pool.ts',
    edits: [
      {
        search: 'new Pool(tenantPoolConfig(connectionString, poolConfig))',
        replace: 'new Pool({ ...poolConfig, connectionString })',
      },
    ],
    suites: ['test/db/tenant-pool.test.ts'],
  },
  {
    name: 'held-client-unwatched',
    breaks: "withTenant (and migrate, the CLI) no longer listen for 'error' on the client they hold",
    file: 'src/db/connection-loss.ts',
    edits: [{ search: "  client.on('error', listener);\n", replace: '' }],
    suites: ['test/db/tenant-pool.test.ts', 'test/db/connection-drops.test.ts'],
  },
  {
    name: 'commit-outcome-unknown-as-loss',
    breaks: 'a connection lost after COMMIT was sent rejects as a plain loss (as if it had not committed)',
    file: 'src/db/tenant-context.ts',
    edits: [{ search: '    throw new CommitOutcomeUnknownError({ cause: error });\n', replace: '    throw error;\n' }],
    suites: ['test/db/tenant-pool.test.ts'],
  },
  {
    name: 'commit-refusal-as-unknown',
    breaks: 'a COMMIT the server refused (it rolled back) is reported as an unknown outcome',
    file: 'src/db/tenant-context.ts',
    edits: [{ search: '    if (commitRefused(error)) throw error;\n', replace: '' }],
    suites: ['test/db/tenant-pool.test.ts'],
  },
  {
    name: 'loss-before-commit-as-unknown',
    breaks: 'a connection known lost before COMMIT was sent is reported as an unknown outcome',
    file: 'src/db/tenant-context.ts',
    edits: [{ search: '  if (connection.lost !== undefined) throw connection.lost;\n', replace: '' }],
    suites: ['test/db/tenant-pool.test.ts'],
  },
  {
    name: 'migrate-crlf-not-normalised',
    breaks: 'migrate() hashes CRLF files as they are: a CRLF checkout is refused as changed',
    file: 'src/db/migrate.ts',
    edits: [{ search: '    const lf = withLf(file.contents);\n', replace: '    const lf = file.contents;\n' }],
    suites: ['test/db/migrate.test.ts'],
  },
  {
    name: 'migrate-crlf-ledger-unmatched',
    breaks: 'migrate() no longer matches a ledger recorded from CRLF files',
    file: 'src/db/migrate.ts',
    edits: [{ search: "[lf, lf.replace(/\\n/g, '\\r\\n'), file.contents]", replace: '[lf, file.contents]' }],
    suites: ['test/db/migrate.test.ts'],
  },
  {
    name: 'migrate-loss-unnamed',
    breaks: 'migrate() rethrows a lost connection as the driver error, without the step it cut',
    file: 'src/db/migrate.ts',
    edits: [{ search: '    if (lost === undefined) throw error;\n', replace: '    throw error;\n' }],
    suites: ['test/db/migrate.test.ts'],
  },
  {
    name: 'db-migrate-loss-exit-1',
    breaks: 'db:migrate exits 1 instead of 4 on a lost connection',
    file: 'src/db/migrate-cli.ts',
    edits: [
      {
        search:
          "        'transaction, and the passwords and the key are set again to the same values.',\n" +
          '      exitCode: ExitCode.Unavailable,\n',
        replace:
          "        'transaction, and the passwords and the key are set again to the same values.',\n" +
          '      exitCode: ExitCode.Failed,\n',
      },
    ],
    suites: ['test/db/migrate-cli.test.ts'],
  },
  {
    name: 'cli-loss-unmapped',
    breaks: 'a command cut off by a lost connection ends with the bare error and exit 1',
    file: 'src/cli/main.ts',
    edits: [
      {
        search: '        throw reportConnectionLoss(error, commandPath(command));\n',
        replace: '        throw error;\n',
      },
    ],
    suites: ['test/cli/connection-loss.test.ts'],
  },
  {
    name: 'setup-database-loss-cause-dropped',
    breaks: 'setup-database rewraps a failed migration without its cause, hiding the lost connection',
    file: 'src/cli/setup-database.ts',
    edits: [
      {
        search:
          '`Migrations failed (nothing after the failing file was applied): ${(error as Error).message}`,\n' +
          '      error,\n',
        replace: '`Migrations failed (nothing after the failing file was applied): ${(error as Error).message}`,\n',
      },
    ],
    suites: ['test/cli/connection-loss.test.ts'],
  },
  {
    name: 'with-database-loss-unrecognised',
    breaks: "withDatabase does not recognise a loss that the command's own error rewrapped",
    file: 'src/cli/connection.ts',
    edits: [
      {
        search: '    const lost = await lostConnection(client, watch, error);\n',
        replace: '    const lost = undefined as Error | undefined;\n',
      },
    ],
    suites: ['test/cli/connection-loss.test.ts'],
  },
  {
    name: 'tenant-policy-or-true',
    breaks: 'user_roles tenant policy: USING (... OR true)',
    file: 'sql/0014_tenant_context_planned_once.sql',
    edits: [
      {
        search: `ALTER POLICY tenant_isolation_user_roles ON accessweaver.user_roles
    USING (tenant_id = (SELECT accessweaver.current_tenant_id()))`,
        replace: `ALTER POLICY tenant_isolation_user_roles ON accessweaver.user_roles
    USING (tenant_id = (SELECT accessweaver.current_tenant_id()) OR true)`,
      },
    ],
    suites: CATALOG_SUITES,
  },
  {
    name: 'tenant-policy-with-check-true',
    breaks: 'users tenant policy: WITH CHECK (true), rows writable into any tenant',
    file: 'sql/0014_tenant_context_planned_once.sql',
    edits: [
      {
        search: `ALTER POLICY tenant_isolation_users ON accessweaver.users
    USING (tenant_id = (SELECT accessweaver.current_tenant_id()))
    WITH CHECK (tenant_id = (SELECT accessweaver.current_tenant_id()));`,
        replace: `ALTER POLICY tenant_isolation_users ON accessweaver.users
    USING (tenant_id = (SELECT accessweaver.current_tenant_id()))
    WITH CHECK (true);`,
      },
    ],
    suites: CATALOG_SUITES,
  },
  {
    name: 'delete-tenant-policy-roles',
    breaks: 'the roles tenant policy dropped',
    file: 'sql/0014_tenant_context_planned_once.sql',
    edits: [
      {
        search: `ALTER POLICY tenant_isolation_roles ON accessweaver.roles
    USING (tenant_id = (SELECT accessweaver.current_tenant_id()))
    WITH CHECK (tenant_id = (SELECT accessweaver.current_tenant_id()));
`,
        replace: 'DROP POLICY tenant_isolation_roles ON accessweaver.roles;\n',
      },
    ],
    suites: CATALOG_SUITES,
  },
  {
    name: 'delete-force-row-security',
    breaks: 'FORCE ROW LEVEL SECURITY deleted on user_roles (the owner bypasses the policies)',
    file: 'sql/0004_row_level_security.sql',
    edits: [
      {
        search: 'ALTER TABLE accessweaver.user_roles ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;',
        replace: 'ALTER TABLE accessweaver.user_roles ENABLE ROW LEVEL SECURITY;',
      },
    ],
    suites: CATALOG_SUITES,
  },
  {
    name: 'tenant-context-signature-unchecked',
    breaks: 'the policies take the tenant of a context without checking its signature',
    file: 'sql/0011_tenant_context_view.sql',
    edits: [
      {
        search: `           WHEN pg_catalog.encode(accessweaver_private.hmac_sha256_blocks(
                    pg_catalog.left(s.context, -65), k.inner_block, k.outer_block), 'hex')
                = pg_catalog.split_part(s.context, '.', 6)
           THEN`,
        replace: `           WHEN pg_catalog.split_part(s.context, '.', 5) ~ '^[0-9]+$'
           THEN`,
      },
    ],
    suites: ['test/db/signed-context.test.ts', 'test/db/tenant-context.test.ts'],
  },
  {
    name: 'tenant-policies-read-unsigned-setting',
    breaks: 'current_tenant_id() takes the tenant of the stored context without the view verifying it',
    file: 'sql/0011_tenant_context_view.sql',
    edits: [
      {
        search: '    RETURN (SELECT t.tenant_id FROM accessweaver.tenant_context t);',
        replace: "    RETURN split_part(current_setting('accessweaver.tenant_context', true), '.', 3)::uuid;",
      },
    ],
    suites: ['test/db/signed-context.test.ts', 'test/db/tenant-context.test.ts'],
  },
  {
    name: 'tenant-context-expiry-unchecked',
    breaks: 'the policies accept an expired context',
    file: 'sql/0011_tenant_context_view.sql',
    edits: [
      {
        search: `THEN LEAST(pg_catalog.split_part(s.context, '.', 5)::pg_catalog.float8, k.verifies_until_epoch)
                >`,
        replace: `THEN k.verifies_until_epoch
                >`,
      },
    ],
    suites: ['test/db/signed-context.test.ts', 'test/db/tenant-context.test.ts'],
  },
  {
    name: 'tenant-context-retired-key-forever',
    breaks: 'a retired key keeps verifying after its overlap window',
    file: 'sql/0011_tenant_context_view.sql',
    edits: [
      {
        search: `THEN LEAST(pg_catalog.split_part(s.context, '.', 5)::pg_catalog.float8, k.verifies_until_epoch)`,
        replace: `THEN pg_catalog.split_part(s.context, '.', 5)::pg_catalog.float8`,
      },
    ],
    suites: ['test/db/tenant-context-keys.test.ts', 'test/db/signed-context.test.ts'],
  },
  {
    name: 'logins-keep-temporary',
    breaks: 'TEMPORARY on the database left to PUBLIC: logins create pg_temp traps for the next tenant',
    file: 'sql/repeatable/session_limits.sql',
    edits: [
      {
        search: "    EXECUTE format('REVOKE TEMPORARY ON DATABASE %I FROM PUBLIC', current_database());\n",
        replace: '',
      },
      {
        search: "WHERE pg_catalog.has_database_privilege(r.oid, current_database(), 'TEMPORARY')",
        replace: 'WHERE false',
      },
    ],
    suites: ['test/db/pool-isolation.test.ts'],
  },
  {
    name: 'tenant-context-statement-timestamp',
    breaks: 'expiry and key validity judged by statement_timestamp(), which stands still inside a DO block',
    file: 'sql/0012_pool_isolation.sql',
    edits: [
      {
        search: "                > pg_catalog.date_part('epoch', pg_catalog.clock_timestamp())",
        replace: "                > pg_catalog.date_part('epoch', pg_catalog.statement_timestamp())",
      },
    ],
    suites: ['test/db/pool-isolation.test.ts'],
  },
  {
    name: 'tenant-context-any-transaction',
    breaks: 'the view no longer requires the marker of the transaction that applied the context',
    file: 'sql/0012_pool_isolation.sql',
    edits: [
      {
        search: ` WHERE pg_catalog.current_setting('accessweaver.tenant_context_transaction', true)
       = accessweaver_private.transaction_marker()
   AND CASE`,
        replace: ' WHERE CASE',
      },
    ],
    suites: ['test/db/pool-isolation.test.ts', 'test/db/tenant-context.test.ts'],
  },
  {
    name: 'unsafe-session-plan-logging',
    breaks: 'set_tenant_context applies a context on a session that writes its plans to the server log',
    file: 'sql/0012_pool_isolation.sql',
    edits: [
      {
        search: "        WHEN pg_catalog.current_setting('debug_print_plan') <> 'off' THEN 'debug_print_plan is on'\n",
        replace: '',
      },
    ],
    suites: ['test/db/pool-isolation.test.ts'],
  },
  {
    name: 'login-settings-kept',
    breaks: 'migrate() no longer resets the per-role settings a login stored for itself',
    file: 'sql/repeatable/session_limits.sql',
    edits: [
      {
        search: "            EXECUTE format('ALTER ROLE %I%s RESET %I', setting.rolname,",
        replace: "            PERFORM format('ALTER ROLE %I%s RESET %I', setting.rolname,",
      },
    ],
    suites: ['test/db/pool-isolation.test.ts'],
  },
  {
    name: 'tenant-work-named-statements',
    breaks: 'withTenant() hands the work the bare client: a named query runs whatever was prepared under its name',
    file: 'src/db/tenant-context.ts',
    edits: [
      {
        search: 'const result = await work(withoutNamedStatements(client));',
        replace: 'const result = await work(client);',
      },
    ],
    suites: ['test/db/pool-isolation.test.ts'],
  },
  {
    name: 'readonly-role-can-write',
    breaks: 'readonly_role granted INSERT, UPDATE, DELETE on the tenant tables',
    file: 'sql/0003_roles_and_privileges.sql',
    edits: [
      {
        search: 'GRANT SELECT ON accessweaver.users, accessweaver.roles, accessweaver.user_roles TO readonly_role;',
        replace:
          'GRANT SELECT, INSERT, UPDATE, DELETE ON accessweaver.users, accessweaver.roles, ' +
          'accessweaver.user_roles TO readonly_role;',
      },
    ],
    suites: ['test/db/isolation.test.ts', 'test/db/catalog.test.ts'],
  },
  {
    name: 'readonly-login-read-write-by-default',
    breaks: 'accessweaver_readonly no longer starts read-only transactions',
    file: 'sql/0003_roles_and_privileges.sql',
    edits: [{ search: 'ALTER ROLE accessweaver_readonly SET default_transaction_read_only = on;', replace: '' }],
    suites: ['test/db/isolation.test.ts'],
  },
  {
    name: 'user-roles-key-without-include',
    breaks: 'user_roles primary key without INCLUDE: no index-only scan of a tenant grants',
    file: 'sql/0001_schema_and_tables.sql',
    edits: [
      {
        search: `    CONSTRAINT user_roles_pkey PRIMARY KEY (tenant_id, user_id, role_id)
        INCLUDE (expires_at, granted_at, granted_by),`,
        replace: '    CONSTRAINT user_roles_pkey PRIMARY KEY (tenant_id, user_id, role_id),',
      },
    ],
    suites: ['test/db/catalog.test.ts'],
  },
  {
    name: 'secret-readers-may-write',
    breaks: 'secret readers (the service roles) may change the secrets they read: a planted key or password',
    file: 'src/rds/credentials.ts',
    edits: [
      {
        search: 'const writers = rotated ? `concat(${rotationRoles}, ${administrators})` : administrators;',
        replace:
          'const writers = rotated ? `concat(${readers}, ${rotationRoles}, ${administrators})` : ' +
          '`concat(${readers}, ${administrators})`;',
      },
    ],
    suites: MODULE_SUITES,
  },
  {
    name: 'secret-policy-allows-put-resource-policy',
    breaks: 'any principal with secretsmanager:PutResourcePolicy rewrites a secret policy',
    file: 'src/rds/credentials.ts',
    edits: [{ search: "  'secretsmanager:PutResourcePolicy',\n", replace: '' }],
    suites: MODULE_SUITES,
  },
  {
    name: 'rotation-guard-allows-pass-role',
    breaks: "the rotation function's role (master secret reader) may be passed to another function",
    file: 'src/rds/credentials.ts',
    edits: [{ search: "    'iam:PassRole',\n", replace: '' }],
    suites: MODULE_SUITES,
  },
  {
    name: 'tenant-context-key-age-unchecked',
    breaks: 'health-check passes whatever the age of the signing key',
    file: 'src/cli/tenant-context-key.ts',
    edits: [{ search: "status: days > maxAgeDays ? 'fail' : 'ok',", replace: "status: 'ok'," }],
    suites: ['test/cli/health-check.test.ts'],
  },
];
