import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // The examples import the package by name, as users do; in tests that name means the sources.
    alias: [
      { find: /^sparsegrad\/node$/, replacement: fileURLToPath(new URL('./src/node/index.ts', import.meta.url)) },
      { find: /^sparsegrad\/kernels$/, replacement: fileURLToPath(new URL('./src/kernels.ts', import.meta.url)) },
      { find: /^sparsegrad\/infer$/, replacement: fileURLToPath(new URL('./src/infer/index.ts', import.meta.url)) },
      { find: /^sparsegrad$/, replacement: fileURLToPath(new URL('./src/index.ts', import.meta.url)) },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
