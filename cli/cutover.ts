#!/usr/bin/env node
// The entry of every cutover process: each command, the supervisor, its workers
// and the supervisor an upgrade starts. Each is a fresh Node that compiles the
// same modules; with V8's code cache on disk it starts in about half the time.
// The cache is switched on before the modules load, which is why the command
// itself is in main.ts. Workers are given their folder by the supervisor
// (NODE_COMPILE_CACHE, in the state folder: generations.ts).

import { enableCompileCache } from './compile-cache.ts'

enableCompileCache()
await import('./main.ts')
