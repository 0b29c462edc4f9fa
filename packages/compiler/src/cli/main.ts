/**
 * The `wax` command line: `wax ir` dumps a function at one compilation stage, `wax export`
 * writes a standalone artifact (`NAME.wasm` + `NAME.manifest.json`) for `@wax/runtime`.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { compileJaxpr } from "../compile";
import { exportNamed, traceWithPaths } from "../export";
import { loadExample } from "./examples";
import { parseArgs, UsageError, type CliOptions } from "./options";
import { renderIr } from "./report";

/** Runs one command; returns the process exit code. Output goes to `io`. */
export async function main(
  argv: readonly string[],
  io: { out: (s: string) => void; err: (s: string) => void } = { out: (s) => process.stdout.write(s), err: (s) => process.stderr.write(s) },
): Promise<number> {
  let opts: CliOptions;
  try {
    opts = parseArgs(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(e.message.endsWith("\n") ? e.message : `${e.message}\n`);
      return argv.length === 0 || ["help", "--help", "-h"].includes(argv[0]!) ? 0 : 2;
    }
    throw e;
  }
  try {
    const ex = await loadExample(opts.file, opts.fn);
    if (opts.command === "ir") {
      const traced = traceWithPaths(ex.fn, ex.args, ex.name);
      const compiled = compileJaxpr(traced.jaxpr, { name: ex.name, text: opts.stage === "wat", optimize: true });
      const text = renderIr(opts.stage, opts.format, traced, compiled);
      if (opts.out) {
        writeFileSync(opts.out, text);
        io.err(`wax ir: wrote ${opts.stage} (${opts.format}) of ${ex.name} to ${opts.out}\n`);
      } else io.out(text.endsWith("\n") ? text : `${text}\n`);
      return 0;
    }
    const art = await exportNamed(ex.name, ex.fn, ex.args);
    mkdirSync(opts.out, { recursive: true });
    const wasmPath = join(opts.out, `${ex.name}.wasm`);
    const manifestPath = join(opts.out, `${ex.name}.manifest.json`);
    writeFileSync(wasmPath, art.wasm);
    writeFileSync(manifestPath, JSON.stringify(art.manifest, null, 2) + "\n");
    io.out(`wax export: ${wasmPath} (${art.wasm.length} bytes, sha256 ${art.manifest.wasm.sha256.slice(0, 12)}…) and ${manifestPath}\n`);
    return 0;
  } catch (e) {
    if (!(e instanceof Error)) throw e;
    io.err(`${e.message}\n`);
    return e instanceof UsageError ? 2 : 1;
  }
}
