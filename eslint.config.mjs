// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', '.dist-build-*/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      'no-restricted-properties': [
        'error',
        {
          object: 'Math',
          property: 'round',
          message: 'Money and rates use bigint or decimal.js (src/lib/money.ts).',
        },
        { object: 'Number', property: 'parseFloat', message: 'No floats near money.' },
      ],
      'no-restricted-globals': ['error', { name: 'parseFloat', message: 'No floats near money.' }],
    },
  },
  {
    // Tests read JSON bodies loosely.
    files: ['test/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['src/**/*.ts', 'jobs/**/*.ts', 'scripts/**/*.ts', 'migrations/**/*.ts'],
    ignores: ['config/**'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "MemberExpression[object.name='process'][property.name='env']",
          message: 'Read configuration from config/ only.',
        },
      ],
    },
  },
);
