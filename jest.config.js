/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.(t|j|mj)s$': ['@swc/jest', { jsc: { target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  // jose v6 and a few Apollo Server 5 dependencies ship ESM only; compile them for jest's CommonJS runtime.
  transformIgnorePatterns: ['/node_modules/(?!(jose|cookie|content-disposition)/)'],
  testTimeout: 60_000,
  maxWorkers: 2,
};
