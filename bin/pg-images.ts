#!/usr/bin/env node
// Node's own warnings (experimental features, deprecations in dependencies) are not the user's to
// act on and would read as findings in a hook's output: drop them before anything is loaded.
process.removeAllListeners("warning");
const { main } = await import("../src/cli.js");

process.exitCode = await main(process.argv.slice(2), {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  now: () => new Date(),
}, process.env);
