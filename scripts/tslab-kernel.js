#!/usr/bin/env node
// Jupyter starts this as the project's TypeScript kernel. tslab compiles notebooks with
// rootDir = its working directory, so start it at the project root: notebooks then import
// './lib/...' whatever folder the notebook sits in.
'use strict';
const path = require('path');

const root = path.resolve(__dirname, '..');
process.chdir(root);
const connectionFile = process.argv[2];
process.argv = [process.argv[0], path.join(root, 'node_modules', 'tslab', 'bin', 'tslab'), 'kernel', '--config-path', connectionFile];
require(path.join(root, 'node_modules', 'tslab', 'dist', 'main.js')).main();
