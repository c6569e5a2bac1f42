// Lets node's test runner import the UI's TypeScript modules directly: a module loader hook that
// compiles .ts/.tsx with esbuild (type annotations stripped, JSX for Preact), nothing bundled.
//   node --import ./test/ts_loader.mjs --test test/*.test.ts
import { register } from 'node:module';

register('./ts_hooks.mjs', import.meta.url);
