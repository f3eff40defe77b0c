#!/usr/bin/env node
/**
 * The `herald-directory` executable (src/main.ts). Runs the built JavaScript (dist/) when it
 * loads: a published package. In the workspace there may be no dist, or the @herald/*
 * packages it imports resolve to TypeScript sources; then it runs src/main.ts through tsx in
 * a child node, so tsx's loader is in place before the first import. A failed import fails
 * at link time, before any of main.js runs, so falling back cannot start a directory twice.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** Import failures that mean "not runnable as plain JavaScript here", not a bug in main. */
const FALL_BACK_ON = new Set(['ERR_MODULE_NOT_FOUND', 'ERR_UNKNOWN_FILE_EXTENSION']);

try {
  await import(new URL('../dist/main.js', import.meta.url).href);
} catch (error) {
  if (!FALL_BACK_ON.has(error?.code)) throw error;
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
  const source = fileURLToPath(new URL('../src/main.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', tsx, source, ...process.argv.slice(2)], {
    stdio: 'inherit',
  });
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal === null ? 1 : 128)));
}
