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
};
