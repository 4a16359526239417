#!/usr/bin/env node
// Committed entry point: the compiled CLI lives in dist/ (run `pnpm build` first).
import '../dist/cli.js';
