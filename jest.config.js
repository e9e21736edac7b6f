/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/__tests__"],
  testMatch: ["**/*.test.ts"],
  transform: {
    // Type-checking is `npm run typecheck`; tsconfig's isolatedModules makes ts-jest only transpile.
    "^.+\\.ts$": ["ts-jest", { diagnostics: false }],
  },
  setupFilesAfterEnv: ["cdktf/lib/testing/adapters/jest"],
  testTimeout: 60000,
  // One suite at a time: the end-to-end suites start many servers on free ports, and a port picked
  // by one suite must not be taken by another before its server binds it.
  maxWorkers: 1,
};
