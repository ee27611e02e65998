#!/usr/bin/env node
import { main } from "../src/cli.js";

process.exitCode = await main(process.argv.slice(2), {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  now: () => new Date(),
}, process.env);
