import { main } from "../../src/cli.js";

/** Run the pg-images command in-process; returns exit code and both streams. */
export async function runCli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await main(args, { out: (t) => (out += t), err: (t) => (err += t), now: () => new Date("2026-01-02T03:04:59Z") });
  return { code, out, err };
}
