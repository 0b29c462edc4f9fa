/**
 * The `wax` CLI: every stage and format of `wax ir` (golden text for a small function), option
 * validation, `wax export` writing an artifact that `@wax/runtime` loads, and the installed
 * `npx wax` binary.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { main } from "../packages/compiler/src/cli/main";
import { load, type RuntimeArray } from "@wax/runtime";

async function run(...argv: string[]) {
  let out = "";
  let err = "";
  const code = await main(argv, { out: (s) => (out += s), err: (s) => (err += s) });
  return { code, out, err };
}

const FILE = "test/fixtures/small.ts";

describe("wax ir", () => {
  it("prints the traced jaxpr in JAX's format with stats (golden)", async () => {
    const { code, out } = await run("ir", FILE, "--fn", "predict");
    expect(code).toBe(0);
    const body = out.split("\n\n").slice(1).join("\n\n");
    expect(body).toBe(`{ lambda ; a:f32[2,2] b:f32[3,2]. let
    c:f32[3,2] = dot_general[
      dimension_numbers=(([1], [0]), ([], []))
      preferred_element_type=float32
    ] b a
    d:f32[3,2] = custom_jvp_call[
      name=relu
      call_jaxpr={ lambda ; e:f32[3,2]. let f:f32[3,2] = max e 0.0:f32[] in (f,) }
      jvp=relu_jvp
      symbolic_zeros=False
    ] c
    g:f32[3] = reduce_sum[axes=(1,) out_sharding=None] d
  in (g,) }
`);
    expect(out).toMatch(
      /^# predict: jaxpr\n# equations: 3 traced, \d+ after passes; kernels: \d+\n# flops\/call: \d+; bytes moved\/call: \d+B\n# arena: \d+B \(peak\) vs \d+B total buffers/,
    );
  });

  it("optimized, kernels and wat stages", async () => {
    const opt = await run("ir", FILE, "--fn", "predict", "--stage", "optimized");
    expect(opt.out).toContain("dot_general");
    expect(opt.out).not.toContain("custom_jvp_call"); // inlined by the passes
    const k = await run("ir", FILE, "--fn", "predict", "--stage", "kernels");
    expect(k.out).toMatch(/k0 matmul/);
    expect(k.out).toContain("memory plan");
    expect(k.out).toMatch(/b\d+ +input +float32 +4 el/);
    const wat = await run("ir", FILE, "--fn", "predict", "--stage", "wat");
    expect(wat.out).toContain("(module");
    expect(wat.out).toContain('(export "run"');
    expect(wat.out).toMatch(/\(func \$k0/);
  });

  it("json follows the versioned wax-ir schema for every stage", async () => {
    for (const stage of ["jaxpr", "optimized", "kernels", "wat"]) {
      const { out } = await run("ir", FILE, "--fn", "predict", "--stage", stage, "--format", "json");
      const j = JSON.parse(out);
      expect(j).toMatchObject({ schema: "wax-ir", version: 1, function: "predict", stage });
      expect(j.stats).toMatchObject({ equations: 3 });
      expect(j.stats.flops).toBeGreaterThan(0);
      if (stage === "jaxpr")
        expect(j.jaxpr.eqns.map((e: { primitive: string }) => e.primitive)).toEqual(["dot_general", "custom_jvp_call", "reduce_sum"]);
      if (stage === "kernels") expect(j.kernels[0]).toMatchObject({ kind: "matmul" });
      if (stage === "wat") expect(j.wat).toContain("(module");
    }
  });

  it("dot renders the jaxpr and the kernel graph; wat has no dot form", async () => {
    const j = await run("ir", FILE, "--fn", "predict", "--format", "dot");
    expect(j.out).toMatch(/^digraph "predict: jaxpr" \{/);
    expect(j.out).toContain('e0 [shape=box, label="dot_general');
    expect(j.out).toContain("-> out;");
    const k = await run("ir", FILE, "--fn", "predict", "--stage", "kernels", "--format", "dot");
    expect(k.out).toMatch(/k0 \[shape=box, label="k0 matmul/);
    const w = await run("ir", FILE, "--fn", "predict", "--stage", "wat", "--format", "dot");
    expect(w.code).toBe(1);
    expect(w.err).toContain("not wat");
  });

  it("--out writes the file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wax-ir-"));
    const { code } = await run("ir", FILE, "--fn", "predict", "--out", join(dir, "p.txt"));
    expect(code).toBe(0);
    expect(readFileSync(join(dir, "p.txt"), "utf8")).toContain("dot_general");
  });

  it("refuses bad options with the usage", async () => {
    const bad = await run("ir", FILE, "--stage", "llvm");
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--stage: Invalid option: expected one of "jaxpr"\|"optimized"\|"kernels"\|"wat"/);
    expect(bad.err).toContain("usage:");
    expect((await run("ir", FILE)).err).toMatch(/several examples \(predict, scaled\) — choose one with --fn/);
    expect((await run("ir", FILE, "--fn", "nope")).err).toMatch(/no entry nope/);
    expect((await run("ir", "missing.ts", "--fn", "f")).err).toMatch(/missing.ts does not exist/);
    expect((await run("ir", "file.py")).err).toMatch(/must be a \.ts/);
    expect((await run("export", FILE, "--fn", "predict")).err).toMatch(/--out: /);
    expect((await run("ir", FILE, "--fn")).err).toMatch(/--fn needs a value/);
    expect((await run("frobnicate", FILE)).code).toBe(2);
  });
});

describe("wax export", () => {
  it("writes NAME.wasm and NAME.manifest.json that the runtime loads and calls", async () => {
    const dir = mkdtempSync(join(tmpdir(), "wax-export-"));
    const { code, out } = await run("export", FILE, "--fn", "scaled", "--out", dir);
    expect(code).toBe(0);
    expect(out).toContain("scaled.wasm");
    const manifest = JSON.parse(readFileSync(join(dir, "scaled.manifest.json"), "utf8"));
    const f = await load(manifest, readFileSync(join(dir, "scaled.wasm")));
    const res = f(new Float32Array([1, 2, 3]), { k: 3 }) as { y: RuntimeArray; k: number };
    expect(res.y.tolist()).toEqual([3, 6, 9]);
    expect(res.k).toBe(3);
  });

  it("npx wax runs as an installed binary", () => {
    const out = execFileSync("npx", ["wax", "ir", FILE, "--fn", "predict", "--stage", "kernels"], { encoding: "utf8" });
    expect(out).toContain("k0 matmul");
  });
});
