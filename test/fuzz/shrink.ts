/**
 * Shrinking a failing fuzz case to a small repro, and printing it as TypeScript a user can paste.
 * Steps, each kept only if the case still fails the same way: the plain mode instead of a
 * transform, one output, statements replaced by inputs holding their eager values (so the
 * failing op ends up alone), unused statements and inputs dropped, axes cut to size 1 or half,
 * and elements set to 0 or 1.
 */
import { check, modeArgs, type CheckResult, type Mode } from "./check";
import { programFunction, type Input, type Program } from "./program";
import type { Array } from "@wax/tracer";

export interface Shrunk {
  program: Program;
  mode: Mode;
  result: CheckResult;
  attempts: number;
}

const kindOf = (r: CheckResult): string =>
  r.status === "crash" ? `crash ${r.detail?.replace(/:.*$/s, "")}${/compiled: (\w+)/.exec(r.detail ?? "")?.[1] ?? ""}` : r.status;
const refs = (expr: string): number[] => [...expr.matchAll(/\bv(\d+)\b/g)].map((m) => Number(m[1]));

/** Drops statements and inputs nothing returned depends on. */
export function dce(p: Program): Program {
  const live = new Set(p.outputs);
  for (let i = p.stmts.length - 1; i >= 0; i--) if (live.has(p.stmts[i]!.id)) refs(p.stmts[i]!.expr).forEach((k) => live.add(k));
  return { inputs: p.inputs.filter((i) => live.has(i.id)), stmts: p.stmts.filter((s) => live.has(s.id)), outputs: p.outputs };
}

function sliceAxis(inp: Input, axis: number, keep: number): Input {
  const outer = inp.shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = inp.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const n = inp.shape[axis]!;
  const data: number[] = [];
  for (let o = 0; o < outer; o++) data.push(...inp.data.slice(o * n * inner, o * n * inner + keep * inner));
  return { ...inp, shape: inp.shape.map((d, i) => (i === axis ? keep : d)), data };
}

/** Shrinks a failing case; `budget` bounds the number of re-checks. */
export function shrink(
  program: Program,
  mode: Mode,
  seed: number,
  result: CheckResult,
  budget = 300,
  checkFn: typeof check = check,
): Shrunk {
  const want = kindOf(result);
  let best: Shrunk = { program: dce(program), mode, result, attempts: 0 };
  const tryCase = (p: Program, m: Mode): boolean => {
    if (best.attempts >= budget) return false;
    best.attempts++;
    let r: CheckResult;
    try {
      r = checkFn(p, m, seed);
    } catch {
      return false;
    }
    if (kindOf(r) !== want) return false;
    best = { program: p, mode: m, result: r, attempts: best.attempts };
    return true;
  };
  if (mode !== "plain") tryCase(best.program, "plain");
  for (const o of best.program.outputs)
    if (best.program.outputs.length > 1 && tryCase(dce({ ...best.program, outputs: [o] }), best.mode)) break;
  // Statements become inputs holding their eager (float32, plain) values, last to first.
  for (let progress = true; progress;) {
    progress = false;
    const p = best.program;
    let values: Array[];
    try {
      const f = programFunction({ ...p, outputs: p.stmts.map((s) => s.id) }, "float32");
      values = f(...modeArgs(p, "plain", seed, "float32")[0]!);
    } catch {
      break;
    }
    for (let k = p.stmts.length - 1; k >= 0 && !progress; k--) {
      const s = p.stmts[k]!;
      const val = values[k]!;
      const inp: Input = { id: s.id, shape: [...val.shape], dtype: val.dtype, data: globalThis.Array.from(val.data, Number) };
      if (val.dtype === "float64") continue;
      const q = dce({ inputs: [...p.inputs, inp].sort((a, b) => a.id - b.id), stmts: p.stmts.filter((t) => t !== s), outputs: p.outputs });
      if (q.stmts.length === 0) continue;
      progress = tryCase(q, best.mode);
    }
  }
  // Smaller axes.
  for (let progress = true; progress;) {
    progress = false;
    const p = best.program;
    for (let i = 0; i < p.inputs.length && !progress; i++) {
      const inp = p.inputs[i]!;
      for (let ax = 0; ax < inp.shape.length && !progress; ax++) {
        for (const keep of [1, Math.floor(inp.shape[ax]! / 2)]) {
          if (keep < 1 || keep >= inp.shape[ax]!) continue;
          const q = { ...p, inputs: p.inputs.map((x, j) => (j === i ? sliceAxis(inp, ax, keep) : x)) };
          if (tryCase(q, best.mode)) {
            progress = true;
            break;
          }
        }
      }
    }
  }
  // Simpler elements.
  for (let i = 0; i < best.program.inputs.length; i++) {
    for (let e = 0; e < best.program.inputs[i]!.data.length; e++) {
      for (const simple of [0, 1]) {
        const inp = best.program.inputs[i]!;
        if (Object.is(inp.data[e], simple) || inp.dtype === "bool") continue;
        const data = [...inp.data];
        data[e] = simple;
        if (tryCase({ ...best.program, inputs: best.program.inputs.map((x, j) => (j === i ? { ...x, data } : x)) }, best.mode)) break;
      }
    }
  }
  return best;
}

const num = (x: number): string =>
  Object.is(x, -0) ? "-0" : Number.isNaN(x) ? "NaN" : x === Infinity ? "Infinity" : x === -Infinity ? "-Infinity" : String(x);

/** The case as a standalone TypeScript program printing eager and compiled results. */
export function reproSource(program: Program, mode: Mode, seed: number): string {
  const p = dce(program);
  const names = p.inputs.map((i) => `v${i.id}`);
  const floats = p.inputs.filter((i) => i.dtype === "float32").map((i) => `v${i.id}`);
  const arr = (inp: { shape: number[]; dtype: string; data: number[] }): string =>
    `array([${inp.data.map(num).join(", ")}], { shape: ${JSON.stringify(inp.shape)}, dtype: "${inp.dtype}" })`;
  const lines = [
    `const FDT = "float32";`,
    `function f(${names.map((n) => `${n}: Array`).join(", ")}): Array[] {`,
    ...p.stmts.map((s) => `  const v${s.id} = ${s.expr};`),
    `  return [${p.outputs.map((o) => `v${o}`).join(", ")}];`,
    `}`,
  ];
  const [args, tangents] = modeArgs(p, mode, seed, "float32");
  args!.forEach((a, i) =>
    lines.push(`const ${names[i]}_in = ${arr({ shape: [...a.shape], dtype: a.dtype, data: globalThis.Array.from(a.data, Number) })};`),
  );
  const call = names.map((n) => `${n}_in`).join(", ");
  if (mode === "plain") lines.push(`const g = f;`);
  if (mode === "vmap") lines.push(`const g = vmap(f);`);
  if (mode === "grad" || mode === "vmapgrad") {
    lines.push(
      `// the loss: every float output summed, the i-th weighted by i + 1`,
      `const g = (${names.map((n) => `${n}: Array`).join(", ")}) => grad((fl: Array[]) => {`,
      `  const [${floats.join(", ")}] = fl;`,
      `  return f(${names.join(", ")}).filter((o) => o.dtype === "float32").reduce((acc: Array, o, i) => acc.add(o.sum().mul(i + 1)), np.zeros([]));`,
      `})([${floats.join(", ")}]);`,
    );
    if (mode === "vmapgrad") lines.push(`const gOne = g;`, `const g2 = vmap(gOne); // per-example gradients`);
  }
  if (mode === "jvp") {
    tangents!.forEach((t, i) =>
      lines.push(`const t${i} = ${arr({ shape: [...t.shape], dtype: t.dtype, data: globalThis.Array.from(t.data, Number) })};`),
    );
    lines.push(
      `const g = (${names.map((n) => `${n}: Array`).join(", ")}) => jvp((${floats.map((n) => `${n}: Array`).join(", ")}) => f(${names.join(", ")}), [${floats.join(", ")}], [${tangents!.map((_, i) => `t${i}`).join(", ")}]);`,
    );
  }
  const h = mode === "vmapgrad" ? "g2" : "g";
  lines.push(`console.log("eager:   ", String(${h}(${call})));`, `console.log("compiled:", String(filterJit(${h})(${call})));`);
  // Import only what the repro uses (a pasted file stays free of unused-import errors).
  const body = lines.join("\n");
  const used = ["array", "grad", "jvp", "lax", "nn", "np", "vmap"].filter((n) => new RegExp(`\\b${n}\\b`).test(body));
  const header = [`import { ${[...used, "type Array"].join(", ")} } from "@wax/tracer";`, `import { filterJit } from "@wax/compiler";`, ``];
  return [...header, ...(/\bFDT\b/.test(body.replace(/^const FDT.*$/m, "")) ? lines : lines.slice(1))].join("\n");
}
