/** Architecture rules, checked in CI (`npm run lint`): see docs/architecture.md. */
module.exports = {
  forbidden: [
    {
      name: 'no-folder-cycles',
      comment: 'Folders depend on each other one way only: a cycle between folders means the structure has lost its layers.',
      severity: 'error',
      scope: 'folder',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'no-file-cycles',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'domain-is-a-leaf',
      comment: 'domain/ holds the rules as plain functions: no Nest, no database, nothing of the service.',
      severity: 'error',
      from: { path: '^src/domain/' },
      to: { path: ['^src/(?!domain/)', '^node_modules/@nestjs/', '^node_modules/(typeorm|pg|bullmq|ioredis)/'] },
    },
    {
      name: 'sql-in-repositories',
      comment: 'Only repositories, migrations and the data layer itself (the data source, transactions, the boot) reach the driver; services pass a Tx.',
      severity: 'error',
      from: {
        path: '^src/',
        pathNot: [
          '\\.repository\\.ts$',
          '^src/database/migrations/',
          '^src/database/(data-source|database\\.module|guarded-client|migrate|preflight|sql-repository|transactions)\\.ts$',
        ],
      },
      to: { path: '^node_modules/(typeorm|pg|@nestjs/typeorm)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['\\.spec\\.ts$', '\\.fixture\\.ts$'] },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], mainFields: ['main', 'types'] },
  },
};
