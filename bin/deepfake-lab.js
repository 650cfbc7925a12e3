#!/usr/bin/env node
// Entry point of the `deepfake-lab` command. The library is TypeScript; tsx compiles it on the fly,
// so there is no build step to forget and the CLI always runs the code you see.
'use strict';
require('tsx/cjs');
require('../lib/cli.ts')
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  });
