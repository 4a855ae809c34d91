/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  // A subgraph's own tests live in its folder (subgraphs/<name>/*.test.ts).
  roots: ['<rootDir>/test', '<rootDir>/subgraphs'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.(t|j|mj)s$': ['@swc/jest', { jsc: { target: 'es2022' }, module: { type: 'commonjs' } }],
  },
  // jose v6, a few Apollo Server 5 dependencies and otplib's crypto (@noble, @scure) ship ESM only; compile them
  // for jest's CommonJS runtime.
  transformIgnorePatterns: ['/node_modules/(?!(jose|cookie|content-disposition|@scure|@noble)/)'],
  // Bounded but generous: suites run two at a time on a two-core machine that may be busy with more. startStack fails
  // sooner, naming what was still starting.
  testTimeout: 180_000,
  maxWorkers: 2,
};
