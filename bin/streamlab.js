#!/usr/bin/env node
// The streamlab executable: a thin launcher for src/cli/main.ts.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
await main(process.argv);
