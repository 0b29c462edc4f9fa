#!/usr/bin/env node
// The `wax` command: loads TypeScript through tsx and binaryen as plain Node would (see
// scripts/register-hooks.mjs), then runs packages/compiler/src/cli/main.ts.
import { register } from "tsx/esm/api";

register();
await import("../../../scripts/register-hooks.mjs");
const { main } = await import("../src/cli/main.ts");
process.exitCode = await main(process.argv.slice(2));
