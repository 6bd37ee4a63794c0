#!/usr/bin/env node
// The `fos-rpcgen` command: the build in dist/ (this file is in the repository, so that installing
// the workspace links it before anything is built).
import '../dist/cli.js';
