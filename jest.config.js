/**
 * Nest 12 ships as ES modules, which Jest on Node 20 can only load in its ESM mode
 * (`--experimental-vm-modules`, set in package.json); ts-jest transpiles to ESM and
 * `npm test` type-checks once with `tsc -p tsconfig.test.json`.
 * Tiers: unit specs next to the code (pure, no I/O); integration specs (repositories and
 * use cases against the real PostgreSQL and Redis, no HTTP) and e2e specs (the app over HTTP with
 * a real SMTP server, on Redis, and some again on the PostgreSQL queue backend) under test/.
 */
const transform = { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.test.json', useESM: true }] };
const common = { testEnvironment: 'node', extensionsToTreatAsEsm: ['.ts'], transform };

module.exports = {
  maxWorkers: 2,
  testTimeout: 60000,
  // `npm test` runs the unit and integration tiers with coverage of the data layer: the
  // integration tier must call every repository method (docs/testing.md).
  coverageProvider: 'v8',
  collectCoverageFrom: ['src/**/*.repository.ts'],
  coverageThreshold: { './src/**/*.repository.ts': { functions: 100 } },
  coverageReporters: ['text-summary'],
  projects: [
    { ...common, displayName: 'unit', roots: ['<rootDir>/src'], testMatch: ['**/*.spec.ts'] },
    { ...common, displayName: 'integration', roots: ['<rootDir>/test/integration'], testMatch: ['**/*.int-spec.ts'] },
    { ...common, displayName: 'e2e', roots: ['<rootDir>/test/e2e'], testMatch: ['**/*.e2e-spec.ts'] },
    // The step flow, the contact gate, letters, delivery status, batches, the dashboard, rate limits and metrics once
    // more with every queue on PostgreSQL and no Redis (test/support/test-app.ts reads the global).
    {
      ...common,
      displayName: 'e2e-postgres',
      roots: ['<rootDir>/test/e2e'],
      testMatch: ['**/{dunning-flow,compliance,letters,batches,dashboard,rate-limit,metrics,webhooks,delivery-status}.e2e-spec.ts'],
      globals: { queueBackend: 'postgres' },
    },
    // The step flow once more with the queues on a Redis Cluster of three masters, and once with
    // a PostgreSQL primary and a streaming standby serving the reads that may lag; each suite
    // file starts and stops those servers (test/support/on-*.ts).
    {
      ...common,
      displayName: 'e2e-cluster',
      roots: ['<rootDir>/test/e2e'],
      testMatch: ['**/dunning-flow.e2e-spec.ts', '**/*.cluster-spec.ts'],
      setupFilesAfterEnv: ['<rootDir>/test/support/on-redis-cluster.ts'],
      globals: { redisCluster: true },
    },
    {
      ...common,
      displayName: 'e2e-replica',
      roots: ['<rootDir>/test/e2e'],
      testMatch: ['**/dunning-flow.e2e-spec.ts', '**/*.replica-spec.ts'],
      setupFilesAfterEnv: ['<rootDir>/test/support/on-read-replica.ts'],
      globals: { readReplica: true },
    },
    // Hostile requests generated from the served OpenAPI document (fast-check, fixed seed in CI).
    { ...common, displayName: 'fuzz', roots: ['<rootDir>/test/fuzz'], testMatch: ['**/*.fuzz-spec.ts'] },
    // API and worker processes against a PostgreSQL, a Redis and an SMTP server the suite can break.
    { ...common, displayName: 'faults', roots: ['<rootDir>/test/faults'], testMatch: ['**/*.fault-spec.ts'] },
  ],
};
