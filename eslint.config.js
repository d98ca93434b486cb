import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import layers from './scripts/eslint/layers.js';

export default tseslint.config(
  { ignores: ['.scratch/**', 'dist/', '**/node_modules/', 'coverage/', '.bench/', 'release/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-restricted-imports': ['error', { paths: [{ name: 'electron', message: 'main/ runs without Electron: keep Electron in electron/.' }] }],
    },
  },
  {
    // Lines a reader can take in at once; sentences in strings are not split for it.
    files: ['main/**/*.ts', 'eval/**/*.ts', 'electron/**/*.ts', 'electron/**/*.cts'],
    rules: { 'max-len': ['error', { code: 140, ignoreUrls: true, ignoreStrings: true, ignoreTemplateLiterals: true, ignoreRegExpLiterals: true }] },
  },
  {
    // Type-aware: a promise nobody awaits or catches loses its failure.
    files: ['main/**/*.ts', 'eval/**/*.ts', 'electron/**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: { '@typescript-eslint/no-floating-promises': 'error', '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: false }] },
  },
  {
    // The engine's parts are for tests and benchmarks; transports and the shell use its facade.
    files: ['main/bridge/**/*.ts', 'main/host/**/*.ts', 'main/cli/**/*.ts', 'electron/**/*.ts', 'eval/**/*.ts'],
    rules: { 'no-restricted-properties': ['error', { property: 'internals', message: 'transports use the engine\'s facade (LoupeApi), never its parts' }] },
  },
  {
    // Rooms and their one-way imports (scripts/eslint/layers.js, docs/architecture.md).
    files: ['**/*.ts', '**/*.cts'],
    plugins: { loupe: layers },
    rules: { 'loupe/layers': 'error' },
  },
  {
    // The shell is the one place Electron belongs; its sandboxed preload must be CommonJS.
    files: ['electron/**/*.ts', 'electron/**/*.cts'],
    rules: { 'no-restricted-imports': 'off', '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['bin/**/*.js'],
    languageOptions: { globals: { process: 'readonly', URL: 'readonly' } },
  },
);
