/**
 * Nest 12 ships as ES modules, which Jest on Node 20 can only load in its ESM mode
 * (`--experimental-vm-modules`, set in package.json); ts-jest transpiles to ESM and
 * `npm test` type-checks once with `tsc -p tsconfig.test.json`.
 * Unit specs sit next to the code (pure, no I/O); integration and e2e specs under test/
 * use the real PostgreSQL, Redis and SMTP.
 */
const transform = { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.test.json', useESM: true }] };
const common = { testEnvironment: 'node', extensionsToTreatAsEsm: ['.ts'], transform };

module.exports = {
  maxWorkers: 2,
  testTimeout: 60000,
  projects: [
    { ...common, displayName: 'unit', roots: ['<rootDir>/src'], testMatch: ['**/*.spec.ts'] },
    { ...common, displayName: 'e2e', roots: ['<rootDir>/test'], testMatch: ['**/*.e2e-spec.ts', '**/*.int-spec.ts'] },
  ],
};
