/**
 * The differential fuzzer (test/fuzz/): random programs over np/lax/nn (control flow, gather,
 * scatter, sort, reductions with axes, ...) on shapes with 0, 1 and odd sizes, float32 / int32 /
 * uint32 / bool data with NaN, ±Inf, -0 and extremes, plain and under grad / vmap / jvp / vmap
 * of grad; each compiled with filterJit and compared with the reference interpreter, a float64
 * shadow telling float32 rounding from bugs (test/fuzz/check.ts says what a mismatch is). A fixed seed range
 * runs here; `npm run fuzz -- --count N --seed S` runs more and prints shrunk repros.
 */
import { describe, expect, it } from "vitest";
import { array } from "@wax/tracer";
import { check, compareLeaves, type CheckResult } from "./fuzz/check";
import { knownBug } from "./fuzz/known";
import { generate, programBody, type Program } from "./fuzz/program";
import { modeOf } from "./fuzz/runner";
import { reproSource, shrink } from "./fuzz/shrink";

/** Seeds run in `npm test`: 7,000 programs in 7 slices (about 20 s in all on 2 cores). */
const SLICES = 7;
const PER_SLICE = 1000;

describe("differential fuzzing: compiled vs eager vs float64 shadow", () => {
  for (let k = 0; k < SLICES; k++) {
    const lo = k * PER_SLICE;
    it(`seeds ${lo}..${lo + PER_SLICE - 1} agree (known, reported bugs aside)`, () => {
      const failures: string[] = [];
      const counts = { pass: 0, skip: 0, known: 0 };
      for (let seed = lo; seed < lo + PER_SLICE; seed++) {
        const program = generate(seed);
        const mode = modeOf(seed);
        const r = check(program, mode, seed);
        if (r.status === "pass" || r.status === "skip") counts[r.status]++;
        else if (knownBug(program, r, mode)) counts.known++;
        else
          failures.push(
            `seed ${seed} (${mode}) ${r.status}: ${r.detail}\n${programBody(program)}\n(npm run fuzz -- --count 1 --seed ${seed} prints a shrunk repro)`,
          );
      }
      expect(failures).toEqual([]);
      // The range checks real programs: most run, under every mode.
      expect(counts.pass).toBeGreaterThan(PER_SLICE * 0.7);
    });
  }
});

describe("the fuzzer's own parts", () => {
  it("compareLeaves flags a wrong element, a NaN placed differently and a dtype change, and tolerates float32 rounding", () => {
    const f32 = (xs: number[]) => array(xs);
    const f64 = (xs: number[]) => array(xs, { dtype: "float64" });
    const eager = [f32([1, 2, NaN, Infinity])];
    const shadow = [f64([1, 2.0000001, NaN, Infinity])];
    expect(compareLeaves([f32([1, 2.0000002, NaN, Infinity])], eager, shadow)).toBeNull();
    expect(compareLeaves([f32([1, 2.5, NaN, Infinity])], eager, shadow)).toMatch(/element 1/);
    expect(compareLeaves([f32([1, 2, 0, Infinity])], eager, shadow)).toMatch(/element 2/);
    expect(compareLeaves([f32([1, 2, NaN, NaN])], eager, shadow)).toMatch(/element 3/);
    expect(compareLeaves([array([1, 2, 0, 0], { dtype: "int32" })], eager, shadow)).toMatch(/i32/);
    // eager overflowed where float64 did not: rounding, not a bug
    expect(compareLeaves([f32([3.4e38])], [f32([Infinity])], [f64([3.5e38])])).toBeNull();
  });

  it("shrink reduces a failing case to the one failing statement and prints it as TypeScript", () => {
    const program: Program = generate(3, 8);
    program.stmts.push({ id: 100, expr: `np.sin(v${program.stmts[program.stmts.length - 1]!.id}.astype(FDT))` });
    program.outputs = [100];
    // A fake checker: every program still containing np.sin "fails".
    const fake = (p: Program): CheckResult =>
      p.stmts.some((s) => s.expr.includes("np.sin")) ? { status: "mismatch", detail: "sin" } : { status: "pass" };
    const s = shrink(program, "vmap", 3, fake(program), 300, fake);
    expect(s.program.stmts.map((x) => x.expr)).toEqual([expect.stringContaining("np.sin")]);
    expect(s.mode).toBe("plain");
    const src = reproSource(s.program, s.mode, 3);
    expect(src).toContain("filterJit(g)");
    expect(src).toContain("const v100 = np.sin(");
  });
});
