// ESLint with typescript-eslint's type-checked rules; Prettier owns the formatting (eslint-config-prettier last).
import eslint from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['dist/**', 'dist-bench/**', 'coverage/**', 'var/**', 'node_modules/**', '*.js', '*.cjs', '*.mjs'] },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { project: './tsconfig.eslint.json', tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { prefer: 'type-imports', fixStyle: 'inline-type-imports', disallowTypeAnnotations: false }],
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  {
    // A Tx is opaque: only repositories and the data layer open it to run a statement.
    files: ['src/**/*.ts'],
    ignores: ['src/**/*.repository.ts', 'src/database/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: [{ group: ['**/database/transactions'], importNames: ['managerOf'], message: 'Run SQL in a repository: services pass the Tx on.' }] },
      ],
    },
  },
  {
    // Tests and the bench drive the service from outside: loosely typed HTTP bodies and fixtures are fine there.
    files: ['test/**/*.ts', 'bench/**/*.ts', 'src/**/*.spec.ts', 'src/**/*.fixture.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/unbound-method': 'off',
      // Fakes answer with promises without awaiting anything.
      '@typescript-eslint/require-await': 'off',
    },
  },
  {
    // The reports page's script runs in the browser as it is written: plain JavaScript, no types.
    files: ['public/**/*.js'],
    extends: [tseslint.configs.disableTypeChecked],
    languageOptions: {
      sourceType: 'script',
      globals: { document: 'readonly', ResizeObserver: 'readonly', echarts: 'readonly' },
    },
  },
  prettier,
);
