/**
 * What `wax ir` prints: one stage of the compilation of a function (the traced jaxpr, the
 * optimised jaxpr, the kernel list with the memory plan, or the WebAssembly text) in text,
 * JSON (schema `wax-ir` version 1) or Graphviz dot, with statistics for every stage.
 */
import { Literal, type ClosedJaxpr, type Jaxpr } from "@wax/tracer";
import type { Compiled } from "../compile";
import { exprChildren, isControl, kernelAccess, regionsOf, type Expr, type Kernel, type Program } from "../lower/kernel-ir";
import type { Traced } from "../export";
import type { STAGES } from "./options";

export type Stage = (typeof STAGES)[number];

export interface IrStats {
  equations: number;
  optimizedEquations: number;
  kernels: number;
  /** Floating-point operations per call (2·M·N·K per matmul, one per element and op elsewhere). */
  flops: number;
  /** Bytes read and written by the kernels per call. */
  bytesMoved: number;
  arenaBytes: number;
  /** Sum of all buffers (the arena without reuse). */
  totalBufferBytes: number;
  traceMs: number;
  compileMs: number;
}

const prod = (xs: readonly number[]) => xs.reduce((a, b) => a * b, 1);

function countEqns(j: Jaxpr): number {
  return j.eqns.length;
}

function exprOps(e: Expr): number {
  const own = e.op === "unary" || e.op === "binary" || e.op === "ipow" || e.op === "select" ? 1 : e.op === "threefry" ? 20 : 0;
  return own + exprChildren(e).reduce((a, c) => a + exprOps(c), 0);
}

function exprLoads(e: Expr): number {
  return (e.op === "load" ? 1 : 0) + exprChildren(e).reduce((a, c) => a + exprLoads(c), 0);
}

function kernelCost(k: Kernel, prog: Program): { flops: number; bytes: number } {
  if (isControl(k)) {
    // A loop's body counts once per trip (a while loop's trip count is not known: once).
    const trips = k.kind === "for" ? k.trips : 1;
    let flops = 0;
    let bytes = 0;
    for (const region of regionsOf(k)) {
      for (const inner of region) {
        const c = kernelCost(inner, prog);
        flops += trips * c.flops;
        bytes += trips * c.bytes;
      }
    }
    return { flops, bytes };
  }
  if (k.kind === "matmul") {
    const [b, m, n, kk] = [prod(k.batch), prod(k.mDims), prod(k.nDims), prod(k.kDims)];
    const epi = k.epilogue ? b * m * n * exprOps(k.epilogue.expr) : 0;
    return { flops: 2 * b * m * n * kk + epi, bytes: 4 * (b * m * kk + b * kk * n + b * m * n) };
  }
  if (k.kind === "sort") {
    // ~n·log2(n) key comparisons per line; every operand read once and written once.
    const size = prod(k.shape);
    const n = k.shape[k.dimension]!;
    const ops = k.operands.reduce((a, e) => a + exprOps(e), 0);
    return {
      flops: size * (ops + k.numKeys * Math.ceil(Math.log2(Math.max(n, 2)))),
      bytes: 4 * size * (k.operands.reduce((a, e) => a + exprLoads(e), 0) + k.operands.length),
    };
  }
  const size = prod(k.shape);
  const outSize = k.kind === "reduce" ? prog.buffers[k.out]!.size : size;
  const epi = k.kind === "reduce" && k.epilogue ? outSize * exprOps(k.epilogue.expr) : 0;
  return { flops: size * (exprOps(k.expr) + (k.kind === "map" ? 0 : 1)) + epi, bytes: 4 * (size * exprLoads(k.expr) + outSize) };
}

export function irStats(traced: Traced, compiled: Compiled): IrStats {
  let flops = 0;
  let bytes = 0;
  for (const k of compiled.program.kernels) {
    const c = kernelCost(k, compiled.program);
    flops += c.flops;
    bytes += c.bytes;
  }
  return {
    equations: countEqns(traced.jaxpr.jaxpr),
    optimizedEquations: countEqns(compiled.optimized.jaxpr),
    kernels: compiled.program.kernels.length,
    flops,
    bytesMoved: bytes,
    arenaBytes: compiled.plan.arenaBytes,
    totalBufferBytes: compiled.plan.totalBytes,
    traceMs: traced.traceMs,
    compileMs: compiled.compileMs,
  };
}

function kernelShape(k: Kernel): string {
  if (k.kind === "for") return `${k.trips} trips${k.reverse ? " reversed" : ""}, index in b${k.counter}`;
  if (k.kind === "while") return `while b${k.pred.buf}[${k.pred.elem}]`;
  if (k.kind === "switch") return `${k.branches.length} branches on b${k.index.buf}[${k.index.elem}]`;
  if (k.kind === "matmul") return `batch [${k.batch}] m [${k.mDims}] n [${k.nDims}] k [${k.kDims}]${k.gemm ? " (packed GEMM)" : ""}`;
  if (k.kind === "reduce") return `loop [${k.shape}] ${k.fn} over axes [${k.axes}]`;
  if (k.kind === "scan") return `loop [${k.shape}] scan axis ${k.axis}${k.reverse ? " reversed" : ""}`;
  if (k.kind === "sort")
    return `loop [${k.shape}] ${k.order === "top_k" ? `top ${k.outLen}` : "sort"} along axis ${k.dimension}, ${k.numKeys} key${k.numKeys > 1 ? "s" : ""}`;
  return `loop [${k.shape}]`;
}

function kernelWrites(k: Kernel): number[] {
  return [...kernelAccess(k).writes].sort((a, b) => a - b);
}

function kernelReads(k: Kernel): number[] {
  const r = kernelAccess(k);
  return [...r.reads].filter((b) => !r.writes.has(b)).sort((a, b) => a - b);
}

/** The kernel tree in execution order, each kernel with its nesting depth (control-flow nodes before their bodies). */
function flatKernels(kernels: readonly Kernel[], depth = 0, out: { k: Kernel; depth: number }[] = []): { k: Kernel; depth: number }[] {
  for (const k of kernels) {
    out.push({ k, depth });
    if (isControl(k)) for (const region of regionsOf(k)) flatKernels(region, depth + 1, out);
  }
  return out;
}

/** The kernel list and memory plan as JSON-ready data. */
export function kernelsData(compiled: Compiled) {
  const { program, plan } = compiled;
  return {
    kernels: flatKernels(program.kernels).map(({ k, depth }, i) => ({
      index: i,
      depth,
      kind: k.kind,
      label: k.label,
      loop: kernelShape(k),
      fused: "epilogue" in k && k.epilogue ? "epilogue" : null,
      reads: kernelReads(k),
      writes: kernelWrites(k),
      ...kernelCost(k, program),
    })),
    buffers: program.buffers.map((b, i) => ({
      id: b.id,
      kind: b.kind,
      dtype: b.dtype,
      elements: b.size,
      bytes: 4 * b.size,
      offset: plan.offsets[i]!,
      live: plan.intervals[i] ?? null,
    })),
    inputs: program.inputs,
    outputs: program.outputs.map((o) => o.buf),
  };
}

function human(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} G`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)} M`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} k`;
  return String(n);
}

export function statsText(s: IrStats): string {
  return [
    `equations: ${s.equations} traced, ${s.optimizedEquations} after passes; kernels: ${s.kernels}`,
    `flops/call: ${human(s.flops)}; bytes moved/call: ${human(s.bytesMoved)}B`,
    `arena: ${human(s.arenaBytes)}B (peak) vs ${human(s.totalBufferBytes)}B total buffers (${((100 * s.arenaBytes) / Math.max(1, s.totalBufferBytes)).toFixed(0)}%)`,
    `trace: ${s.traceMs.toFixed(1)} ms; compile: ${s.compileMs.toFixed(1)} ms`,
  ].join("\n");
}

function kernelsText(compiled: Compiled): string {
  const d = kernelsData(compiled);
  const lines = d.kernels.map((k) => {
    const pad = "  ".repeat(k.depth);
    return `${pad}k${k.index} ${k.kind.padEnd(6)} ${k.label}\n${pad}    ${k.loop}${k.fused ? ", fused epilogue" : ""}\n${pad}    reads [${k.reads.map((b) => `b${b}`).join(" ")}] writes ${k.writes.map((b) => `b${b}`).join(" ")}`;
  });
  const bufs = d.buffers.map(
    (b) =>
      `b${b.id}`.padEnd(6) +
      `${b.kind.padEnd(6)} ${b.dtype.padEnd(8)} ${String(b.elements).padStart(9)} el  @${String(b.offset).padStart(9)}  live ${b.live ? `k${b.live[0]}..k${b.live[1]}` : "-"}`,
  );
  return `kernels:\n${lines.join("\n")}\n\nmemory plan (buffer kind dtype elements @offset live):\n${bufs.join("\n")}`;
}

// ---- JSON and dot for jaxprs ----------------------------------------------------------------

function jaxprData(cj: ClosedJaxpr) {
  const j = cj.jaxpr;
  const names = new Map<unknown, string>();
  const nm = (v: unknown) => {
    if (v instanceof Literal) return `${v.value}:${v.aval}`;
    let n = names.get(v);
    if (!n) names.set(v, (n = `v${names.size}`));
    return n;
  };
  const vars = (vs: readonly unknown[]) => vs.map((v) => ({ name: nm(v), aval: String((v as { aval: unknown }).aval) }));
  return {
    constvars: vars(j.constvars),
    invars: vars(j.invars),
    eqns: j.eqns.map((e) => ({
      primitive: e.prim.name,
      params: Object.fromEntries(
        Object.entries(e.params).map(([k, v]) => [k, typeof v === "object" && v !== null && !Array.isArray(v) ? String(v) : v]),
      ),
      inputs: e.inputs.map(nm),
      outputs: vars(e.outputs),
    })),
    outvars: j.outvars.map(nm),
  };
}

function dotEscape(s: string): string {
  return s.replace(/\\/g, "\\\\").replace(/"/g, '\\"');
}

function jaxprDot(cj: ClosedJaxpr, title: string): string {
  const d = jaxprData(cj);
  const out = [`digraph "${dotEscape(title)}" {`, "  rankdir=TB;", '  node [fontname="monospace", fontsize=10];'];
  const producer = new Map<string, string>();
  for (const v of [...d.constvars, ...d.invars]) {
    out.push(`  "${v.name}" [shape=ellipse, label="${dotEscape(`${v.name}: ${v.aval}`)}"];`);
    producer.set(v.name, v.name);
  }
  d.eqns.forEach((e, i) => {
    out.push(`  e${i} [shape=box, label="${dotEscape(`${e.primitive}\n${e.outputs.map((o) => `${o.name}: ${o.aval}`).join("\n")}`)}"];`);
    for (const inp of e.inputs) if (producer.has(inp)) out.push(`  "${producer.get(inp)}" -> e${i};`);
    for (const o of e.outputs) producer.set(o.name, `e${i}`);
  });
  out.push('  out [shape=doublecircle, label="out"];');
  for (const o of d.outvars) if (producer.has(o)) out.push(`  "${producer.get(o)}" -> out;`);
  out.push("}");
  return out.join("\n");
}

function kernelsDot(compiled: Compiled, title: string): string {
  const d = kernelsData(compiled);
  const out = [`digraph "${dotEscape(title)}" {`, "  rankdir=TB;", '  node [fontname="monospace", fontsize=10];'];
  const writer = new Map<number, string>();
  for (const b of d.buffers)
    if (b.kind === "input" || b.kind === "const") {
      out.push(`  b${b.id} [shape=ellipse, label="b${b.id} ${b.kind}\\n${b.dtype}[${b.elements}]"];`);
      writer.set(b.id, `b${b.id}`);
    }
  for (const k of d.kernels) {
    out.push(`  k${k.index} [shape=box, label="${dotEscape(`k${k.index} ${k.kind}\n${k.label}\n${k.loop}`)}"];`);
    for (const r of k.reads) if (writer.has(r)) out.push(`  ${writer.get(r)} -> k${k.index} [label="b${r}"];`);
    for (const w of k.writes) writer.set(w, `k${k.index}`);
  }
  d.outputs.forEach((b, i) => {
    out.push(`  out${i} [shape=doublecircle, label="out ${i}"];`);
    if (writer.has(b)) out.push(`  ${writer.get(b)} -> out${i};`);
  });
  out.push("}");
  return out.join("\n");
}

/** The report of one stage in one format. */
export function renderIr(stage: Stage, format: "text" | "json" | "dot", traced: Traced, compiled: Compiled): string {
  const stats = irStats(traced, compiled);
  const title = `${traced.name}: ${stage}`;
  if (format === "json") {
    const body =
      stage === "jaxpr"
        ? { jaxpr: { text: String(traced.jaxpr), ...jaxprData(traced.jaxpr) } }
        : stage === "optimized"
          ? { jaxpr: { text: String(compiled.optimized), ...jaxprData(compiled.optimized) } }
          : stage === "kernels"
            ? kernelsData(compiled)
            : { wat: compiled.text ?? "" };
    return JSON.stringify(
      {
        schema: "wax-ir",
        version: 1,
        function: traced.name,
        stage,
        stats,
        inputTree: traced.inputTree,
        outputTree: traced.outputTree,
        ...body,
      },
      null,
      2,
    );
  }
  if (format === "dot") {
    if (stage === "wat")
      throw new Error("wax ir: --format dot renders the jaxpr, optimized or kernels stage, not wat — use --format text for wat");
    return stage === "kernels" ? kernelsDot(compiled, title) : jaxprDot(stage === "jaxpr" ? traced.jaxpr : compiled.optimized, title);
  }
  const body =
    stage === "jaxpr"
      ? String(traced.jaxpr)
      : stage === "optimized"
        ? String(compiled.optimized)
        : stage === "kernels"
          ? kernelsText(compiled)
          : (compiled.text ?? "");
  return `# ${title}\n${statsText(stats).replace(/^/gm, "# ")}\n\n${body}\n`;
}
