/**
 * `npm run bench [-- --quick] [-- --only=<regex>] [-- --peers=wax,jax-js] [-- --reps=<n>]
 *  [-- --clock=wall|cpu] [-- --verbose]`
 *
 * wax against its peers (jax-js on its single-threaded wasm device, tfjs on its wasm and cpu
 * backends), all in this one process and one run: per-call overhead, matmul, a fused
 * elementwise chain, MLP training steps and their compile time. Prints a markdown table of
 * medians, wax/peer ratios (>1 means wax is better) and the targets of the compiler issue.
 * A peer that fails to start shows "n/a (reason)"; a case that fails shows its error.
 */
import { execSync } from "node:child_process";
import { register } from "node:module";
import os from "node:os";
import { cnnFlops, cnnSpec, embeddingSpec, matmulFlops, matmulSpec, mlpFlops, mlpSpec, rnnSpec, uniform } from "./data";
import { calibrate, collectGarbage, median, repetition, settle } from "./timing";
import type { Bench, MlpSpec, Peer, SeedSpec } from "./types";

// ---------------------------------------------------------------------------------------------
// Options

const argv = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const a = argv.find((x) => x === `--${name}` || x.startsWith(`--${name}=`));
  if (a === undefined) return undefined;
  const eq = a.indexOf("=");
  return eq < 0 ? "" : a.slice(eq + 1);
};
for (const a of argv) {
  if (!/^--(quick|only=.+|peers=.+|reps=\d+|clock=(wall|cpu)|verbose|help)$/.test(a)) {
    console.error(
      `bench: unknown option ${a} — use --quick, --only=<regex>, --peers=wax,jax-js,tfjs-wasm,tfjs-cpu, --reps=<n>, --clock=wall|cpu, --verbose`,
    );
    process.exit(2);
  }
}
if (flag("help") !== undefined) {
  console.log(
    "npm run bench [-- --quick] [-- --only=<regex on case names>] [-- --peers=wax,jax-js,tfjs-wasm,tfjs-cpu] [-- --reps=<n>] [-- --clock=wall|cpu] [-- --verbose]",
  );
  process.exit(0);
}
const quick = flag("quick") !== undefined;
const only = flag("only") ? new RegExp(flag("only")!, "i") : null;
const wantPeers = flag("peers")?.split(",") ?? null;
const reps = Math.max(1, Number(flag("reps") ?? (quick ? 3 : 7)));
/**
 * `wall`: elapsed time. `cpu`: this process's CPU time, which does not advance while other
 * processes hold the cores — steadier on a shared machine, and equal to wall time for a
 * single-threaded peer on an idle one (the CPU/wall line under the table shows how close).
 */
const clock = (flag("clock") ?? "wall") as "wall" | "cpu";
/** Prints every repetition's per-call time (and its CPU/wall) to stderr. */
const verbose = flag("verbose") !== undefined;
const minRepMs = quick ? 5 : 20;
const warmupMs = quick ? 30 : 200;

// ---------------------------------------------------------------------------------------------
// Peers

type PeerSlot = { name: string; peer: Peer | null; error?: string };

function message(e: unknown): string {
  const s =
    e instanceof Error ? e.message : typeof e === "object" && e && "message" in e ? String((e as { message: unknown }).message) : String(e);
  return s.replace(/\s+/g, " ").trim();
}

async function loadPeers(): Promise<PeerSlot[]> {
  const loaders: [string, () => Promise<Peer>][] = [
    ["wax", async () => (await import("./peers/wax")).createWax()],
    ["jax-js", async () => (await import("./peers/jax-js")).createJaxJs()],
    ["tfjs-wasm", async () => (await import("./peers/tfjs")).createTfjs("wasm")],
    ["tfjs-cpu", async () => (await import("./peers/tfjs")).createTfjs("cpu")],
  ];
  const slots: PeerSlot[] = [];
  for (const [name, load] of loaders) {
    if (wantPeers && !wantPeers.includes(name)) continue;
    const t0 = performance.now();
    try {
      slots.push({ name, peer: await load() });
      progress(`bench: loaded ${name} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    } catch (e) {
      slots.push({ name, peer: null, error: message(e) });
    }
  }
  return slots;
}

// ---------------------------------------------------------------------------------------------
// Cases

/** A case a peer does not have (e.g. jax-js has no `scan`): shown as n/a, not as an error. */
class NotAvailable extends Error {}
const optional = <S>(f: ((spec: S) => Bench | Promise<Bench>) | undefined, spec: S, what: string): Bench | Promise<Bench> => {
  if (!f) throw new NotAvailable(`no ${what}`);
  return f(spec);
};

interface Case {
  name: string;
  unit: string;
  /** Throughputs are better high (ratio wax/peer); times are better low (ratio peer/wax). */
  higherIsBetter: boolean;
  /** Target on the wax-vs-jax-js ratio, from the issue. */
  target?: number;
  setup(p: Peer): Bench | Promise<Bench>;
  /** The reported number from the median ms per call. */
  value(ms: number): number;
  format?(v: number): string;
  /** Relative tolerance of the cross-peer check. */
  tol: number;
  /** MLP cases also feed a compile-time row. */
  compileRow?: string;
  /** Rows of further figures a peer's bench reports in `Bench.extra[key]` (lower is better). */
  extraRows?: { key: string; name: string; unit: string; target?: number }[];
}

function cases(): Case[] {
  const out: Case[] = [];
  const tiny = uniform(16, -1, 1, 1);
  out.push({
    name: "call overhead: x*2+1, 16 f32, read back",
    unit: "µs/call",
    higherIsBetter: false,
    target: 10,
    setup: (p) => p.tiny(tiny),
    value: (ms) => ms * 1e3,
    tol: 1e-6,
  });
  for (const [n, tB] of quick
    ? ([
        [128, false],
        [256, false],
        [256, true],
      ] as const)
    : ([
        [128, false],
        [256, false],
        [512, false],
        [1024, false],
        [512, true],
        [1024, true],
      ] as const)) {
    const spec = matmulSpec(n, tB);
    out.push({
      name: `matmul ${tB ? "A@Bᵀ" : "A@B"} n=${n}`,
      unit: "GFLOP/s",
      higherIsBetter: true,
      target: n >= 512 ? 1.5 : undefined,
      setup: (p) => p.matmul(spec),
      value: (ms) => matmulFlops(n) / ms / 1e6,
      tol: 1e-3,
    });
  }
  const chainN = quick ? 1 << 18 : 1 << 20;
  const chainX = uniform(chainN, -2, 2, 7);
  out.push({
    name: `chain of 8 ops (exp, tanh), ${chainN >= 1 << 20 ? `${chainN >> 20}M` : `${chainN >> 10}K`} f32`,
    unit: "GB/s",
    higherIsBetter: true,
    setup: (p) => p.chain(chainX),
    value: (ms) => (8 * chainN) / ms / 1e6,
    tol: 1e-3,
  });
  const mlps: [number, number[], number][] = quick
    ? [[10, [3, 32, 32, 3], 20]]
    : [
        [10, [3, 32, 32, 3], 20],
        [128, [784, 512, 512, 10], 1.25],
      ];
  for (const [batch, widths, target] of mlps) {
    const spec: MlpSpec = mlpSpec(batch, widths);
    const flops = mlpFlops(spec);
    const label = `${widths.join("-")} batch ${batch}`;
    out.push({
      name: `MLP train step (fwd, grad, Adam) ${label}`,
      unit: "steps/s (GFLOP/s)",
      higherIsBetter: true,
      target,
      setup: (p) => p.mlp(spec),
      value: (ms) => 1e3 / ms,
      format: (v) => `${fmt(v)} (${fmt((v * flops) / 1e9)})`,
      tol: 5e-3,
      compileRow: `compile: jitted MLP step ${label}`,
    });
  }
  // Control flow, gather and sort (issue 11). jax-js has no scan, so the scan rows are wax's own:
  // the scan against the same recurrence unrolled by a JS loop, and compile time against T.
  const rnnRows: [number, "scan" | "unrolled", boolean][] = quick
    ? [
        [10, "scan", true],
        [200, "scan", true],
        [200, "scan", false],
        [50, "unrolled", false],
      ]
    : [
        [10, "scan", true],
        [1000, "scan", true],
        [1000, "scan", false],
        [100, "unrolled", false],
      ];
  for (const [steps, mode, withGrad] of rnnRows) {
    const spec = rnnSpec(steps, mode, withGrad);
    const label = `RNN h=tanh(Wh+Ux+b) h=32, ${mode === "scan" ? "lax.scan" : "unrolled JS loop"}, T=${steps}${withGrad ? ", value + grad" : ""}`;
    out.push({
      name: label,
      unit: "µs/step",
      higherIsBetter: false,
      setup: (p) => optional(p.rnn?.bind(p), spec, "scan"),
      value: (ms) => (ms * 1e3) / steps,
      tol: 1e-4,
      compileRow: `compile: ${label}`,
    });
  }
  const emb = embeddingSpec(128, 64);
  out.push({
    name: `vmap(embedding) batch 128 × seq 64, vocab 1000 × dim 64`,
    unit: "µs/call",
    higherIsBetter: false,
    setup: (p) => optional(p.embedding?.bind(p), emb, "gather"),
    value: (ms) => ms * 1e3,
    tol: 1e-6,
    compileRow: "compile: vmap(embedding) batch 128 × seq 64",
  });
  const cnn = cnnSpec(64);
  const cnnGflop = cnnFlops(cnn) / 1e9;
  out.push({
    name: `CNN train step (conv 3×3 ${cnn.c1}, pool, conv 3×3 ${cnn.c2}, pool, linear; SGD) ${cnn.size}×${cnn.size} batch ${cnn.batch}`,
    unit: "steps/s (GFLOP/s)",
    higherIsBetter: true,
    setup: (p) => optional(p.cnn?.bind(p), cnn, "conv"),
    value: (ms) => 1e3 / ms,
    format: (v) => `${fmt(v)} (${fmt(v * cnnGflop)})`,
    tol: 5e-3,
    compileRow: `compile: CNN train step batch ${cnn.batch}`,
  });
  // The seed example's own training step (issue 12): its Model, computeLoss and optax.adam in
  // one filterJit, against jax-js's hand-written step from the same initial weights.
  let seed: Promise<SeedSpec> | null = null;
  const seedSpec = () => (seed ??= import("./seed").then((m) => m.seedSpec()));
  out.push({
    name: "seed step (examples/stateful.ts: BatchNorm, SpectralNorm, Linear; Adam), batch 10",
    unit: "µs/step",
    higherIsBetter: false,
    target: 40,
    setup: async (p) => optional(p.seed?.bind(p), await seedSpec(), "seed step"),
    value: (ms) => ms * 1e3,
    tol: 1e-3,
    compileRow: "compile: seed step",
    extraRows: [
      { key: "firstCallMs", name: "seed step: first call (trace + compile + run)", unit: "ms", target: 1 },
      { key: "bytesPerStep", name: "seed step: bytes allocated per step (V8 heap)", unit: "B/step" },
    ],
  });
  out.push({
    name: "seed step, eager (no jit)",
    unit: "ms/step",
    higherIsBetter: false,
    setup: async (p) => optional(p.seedEager?.bind(p), await seedSpec(), "eager seed step"),
    value: (ms) => ms,
    tol: 1e-3,
  });
  const sortN = quick ? 1 << 12 : 1 << 16;
  const sortX = uniform(sortN, -1, 1, 700);
  out.push({
    name: `argsort ${sortN >> 10}K f32`,
    unit: "µs/call",
    higherIsBetter: false,
    setup: (p) => optional(p.argsort?.bind(p), sortX, "argsort"),
    value: (ms) => ms * 1e3,
    tol: 1e-9,
  });
  return out.filter((c) => !only || only.test(c.name));
}

// ---------------------------------------------------------------------------------------------
// Running

type Cell = { ok: true; value: number; cores: number; check: number[]; text: string } | { ok: false; text: string };

interface Row {
  name: string;
  unit: string;
  higherIsBetter: boolean;
  target?: number;
  cells: Map<string, Cell>;
}

const notes: string[] = [];

function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  if (a >= 0.01) return v.toFixed(2);
  return v.toPrecision(2);
}

const short = (s: string, n = 70): string => (s.length > n ? `${s.slice(0, n - 1)}…` : s).replace(/\|/g, "\\|");

async function runCase(c: Case, slots: PeerSlot[]): Promise<Row[]> {
  const row: Row = { name: c.name, unit: c.unit, higherIsBetter: c.higherIsBetter, target: c.target, cells: new Map() };
  const compile: Row | null = c.compileRow
    ? { name: c.compileRow, unit: "ms (first − warm call)", higherIsBetter: false, cells: new Map() }
    : null;
  const extras: Row[] = (c.extraRows ?? []).map((x) => ({
    name: x.name,
    unit: x.unit,
    higherIsBetter: false,
    target: x.target,
    cells: new Map(),
  }));
  const noExtras = (slot: PeerSlot) => extras.forEach((x) => x.cells.set(slot.name, { ok: false, text: "n/a" }));
  const live: { slot: PeerSlot; peer: Peer; bench: Bench; iters: number; samples: number[]; wall: number; cpu: number }[] = [];
  const dispose = (peer: string, b: Bench | null) => {
    try {
      b?.dispose();
    } catch (e) {
      notes.push(`${peer}, ${c.name}: dispose failed: ${message(e)}`);
    }
  };
  const fail = (slot: PeerSlot, what: string, e: unknown) => {
    const m = message(e);
    row.cells.set(slot.name, { ok: false, text: `error: ${short(m)}` });
    compile?.cells.set(slot.name, { ok: false, text: "error (see above)" });
    notes.push(`**${slot.name}**, ${c.name}, ${what}: ${m}`);
  };
  for (const slot of slots) {
    if (!slot.peer) {
      row.cells.set(slot.name, { ok: false, text: `n/a (${short(slot.error ?? "not loaded", 50)})` });
      compile?.cells.set(slot.name, { ok: false, text: "n/a" });
      noExtras(slot);
      continue;
    }
    let bench: Bench | null = null;
    try {
      await slot.peer.activate?.();
      bench = await c.setup(slot.peer);
      live.push({ slot, peer: slot.peer, bench, iters: 0, samples: [], wall: 0, cpu: 0 });
      if (compile) {
        compile.cells.set(
          slot.name,
          bench.compileMs === undefined
            ? { ok: false, text: "n/a (no jit)" }
            : { ok: true, value: bench.compileMs, cores: NaN, check: [], text: fmt(bench.compileMs) },
        );
        if (bench.internalCompileMs !== undefined) {
          notes.push(
            `${slot.name}, ${c.compileRow}: first call − warm call ${fmt(bench.compileMs!)} ms; its own stats() report ${fmt(bench.internalCompileMs)} ms tracing + compiling.`,
          );
        }
      }
      (c.extraRows ?? []).forEach((x, i) => {
        const v = bench!.extra?.[x.key];
        extras[i]!.cells.set(
          slot.name,
          v === undefined ? { ok: false, text: "n/a" } : { ok: true, value: v, cores: NaN, check: [], text: fmt(v) },
        );
      });
    } catch (e) {
      noExtras(slot);
      if (e instanceof NotAvailable) {
        row.cells.set(slot.name, { ok: false, text: `n/a (${e.message})` });
        compile?.cells.set(slot.name, { ok: false, text: "n/a" });
      } else {
        fail(slot, "setup", e);
      }
      dispose(slot.name, bench);
    }
  }
  collectGarbage();
  await settle();
  for (const l of [...live]) {
    try {
      await l.peer.activate?.();
      l.iters = await calibrate(l.bench, minRepMs, warmupMs);
    } catch (e) {
      fail(l.slot, "warm-up", e);
      dispose(l.slot.name, l.bench);
      live.splice(live.indexOf(l), 1);
    }
  }
  await settle();
  // Interleaved repetitions: every peer's r-th repetition runs before anyone's (r+1)-th.
  for (let r = 0; r < reps; r++) {
    for (const l of [...live]) {
      try {
        await l.peer.activate?.();
        const [wall, cpu] = await repetition(l.bench, l.iters);
        l.samples.push((clock === "cpu" ? cpu : wall) / l.iters);
        l.wall += wall;
        l.cpu += cpu;
      } catch (e) {
        fail(l.slot, "run", e);
        dispose(l.slot.name, l.bench);
        live.splice(live.indexOf(l), 1);
      }
    }
  }
  for (const l of live) {
    if (verbose)
      progress(
        `  ${l.slot.name}: ${l.iters} calls/rep; ms/call ${l.samples.map((x) => x.toPrecision(3)).join(" ")}; CPU/wall ${(l.cpu / l.wall).toFixed(2)}`,
      );
    const ms = median(l.samples);
    const v = c.value(ms);
    row.cells.set(l.slot.name, { ok: true, value: v, cores: l.cpu / l.wall, check: l.bench.check, text: c.format ? c.format(v) : fmt(v) });
    dispose(l.slot.name, l.bench);
  }
  crossCheck(c, row);
  return [row, ...(compile ? [compile] : []), ...extras];
}

/** Flags a peer whose first results differ from the median of all peers: not the same math. */
function crossCheck(c: Case, row: Row): void {
  const ok = [...row.cells.entries()].filter((e): e is [string, Extract<Cell, { ok: true }>] => e[1].ok);
  if (ok.length < 2) return;
  const ref = ok[0]![1].check.map((_, i) => median(ok.map(([, cell]) => cell.check[i]!)));
  for (const [name, cell] of ok) {
    const bad = cell.check.some((x, i) => !(Math.abs(x - ref[i]!) <= c.tol * Math.max(1, Math.abs(ref[i]!))));
    if (bad) {
      cell.text += " ⚠";
      notes.push(
        `⚠ ${name}, ${c.name}: result check [${cell.check.map((x) => x.toPrecision(7)).join(", ")}] differs from the peers' median [${ref.map((x) => x.toPrecision(7)).join(", ")}] (tolerance ${c.tol} relative)`,
      );
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Table

function ratio(row: Row, peer: string): number | null {
  const w = row.cells.get("wax");
  const p = row.cells.get(peer);
  if (!w?.ok || !p?.ok) return null;
  return row.higherIsBetter ? w.value / p.value : p.value / w.value;
}

function table(rows: Row[], slots: PeerSlot[]): string {
  const others = slots.filter((s) => s.name !== "wax").map((s) => s.name);
  const head = ["case", "unit", ...slots.map((s) => s.name), ...others.map((o) => `wax vs ${o}`), "target vs jax-js", "status"];
  const lines = [`| ${head.join(" | ")} |`, `|${head.map((_, i) => (i < 2 ? " --- " : " ---: ")).join("|")}|`];
  for (const row of rows) {
    const jr = ratio(row, "jax-js");
    const status = row.target === undefined ? "" : jr === null ? "no data" : jr >= row.target ? "**met**" : "not met";
    const cells = [
      row.name,
      row.unit,
      ...slots.map((s) => row.cells.get(s.name)?.text ?? ""),
      ...others.map((o) => {
        const r = ratio(row, o);
        return r === null ? "—" : `${r.toFixed(r >= 10 ? 1 : 2)}×`;
      }),
      row.target === undefined ? (row.name.startsWith("compile") ? "reported" : "") : `≥ ${row.target}×`,
      status,
    ];
    lines.push(`| ${cells.join(" | ")} |`);
  }
  return lines.join("\n");
}

// ---------------------------------------------------------------------------------------------

const progress = (s: string) => process.stderr.write(`${s}\n`);

/** The wax revision measured: HEAD, and whether packages/ had uncommitted changes. */
function revision(): string {
  try {
    const head = execSync("git rev-parse --short HEAD", { stdio: ["ignore", "pipe", "ignore"] })
      .toString()
      .trim();
    const dirty =
      execSync("git status --porcelain -- packages", { stdio: ["ignore", "pipe", "ignore"] })
        .toString()
        .trim() !== "";
    return `wax at ${head}${dirty ? " + uncommitted changes in packages/" : ""}`;
  } catch {
    return "wax revision unknown (not a git checkout)";
  }
}

async function main(): Promise<void> {
  const started = performance.now();
  register(new URL("./loader-hooks.mjs", import.meta.url));
  const load0 = os.loadavg();
  progress(`bench: loading peers…`);
  const slots = await loadPeers();
  const rows: Row[] = [];
  for (const c of cases()) {
    const t0 = performance.now();
    rows.push(...(await runCase(c, slots)));
    progress(`bench: ${c.name} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
  }
  const load1 = os.loadavg();
  const cpus = os.cpus();
  console.log(`## wax benchmarks${quick ? " (--quick)" : ""}\n`);
  console.log(table(rows, slots));
  console.log();
  console.log(
    `Medians (${clock === "cpu" ? "process CPU time" : "wall-clock time"}) of ${reps} repetitions of ≥ ${minRepMs} ms each (calls looped inside), after ≥ ${warmupMs} ms of warm-up; repetitions of all peers interleaved. ` +
      `Ratios: wax/peer for throughputs, peer/wax for times, so > 1× means wax is better. ` +
      `MLP GFLOP/s count 6·batch·Σ(in·out) per step; GB/s count 8 bytes per element (one f32 read, one write).`,
  );
  console.log();
  console.log(
    `- ${revision()}; machine: ${cpus[0]?.model ?? "?"} × ${cpus.length}, Node ${process.version}, load average ${load0[0]!.toFixed(2)} at start, ${load1[0]!.toFixed(2)} at end; ${((performance.now() - started) / 1000).toFixed(0)} s in all`,
  );
  if (clock === "wall" && Math.max(load0[0]!, load1[0]!) > cpus.length - 0.5) {
    console.log(
      `- ⚠ the load average exceeded the ${cpus.length} cores: other processes took turns on them, which inflates wall-clock times unevenly; \`--clock=cpu\` measures this process's CPU time instead`,
    );
  }
  for (const s of slots) console.log(`- ${s.name}: ${s.peer ? s.peer.info : `n/a (${s.error})`}`);
  // CPU time / wall time of the process over a peer's timed repetitions. On compute-bound rows
  // (matmul) a second busy thread would show as > 1; on rows of many small calls V8's GC and
  // background compiler threads also count.
  const coresOf = (peer: string, rowFilter: (r: Row) => boolean) =>
    rows.filter(rowFilter).flatMap((r) => {
      const c = r.cells.get(peer);
      return c?.ok && Number.isFinite(c.cores) ? [c.cores] : [];
    });
  const matmulCores = slots
    .map((s) => [s.name, coresOf(s.name, (r) => r.name.startsWith("matmul"))] as const)
    .filter(([, c]) => c.length)
    .map(([n, c]) => `${n} ${Math.max(...c).toFixed(2)}`);
  if (matmulCores.length)
    console.log(
      `- process CPU time / wall time on the matmul rows, highest per peer (1.00 = one core busy; 2 cores here): ${matmulCores.join(", ")}`,
    );
  if (notes.length) {
    console.log("\nNotes and errors:\n");
    for (const n of notes) console.log(`- ${n}`);
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
