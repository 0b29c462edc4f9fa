/**
 * The compiler's module graph stays acyclic: no file of `packages/compiler/src` reaches
 * itself through its imports (type-only imports included), and the compiler's
 * stages depend one way only — passes and lowering (IR) before the memory plan, the memory
 * plan before codegen, and nothing below `compile.ts` importing it.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

function tsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return tsFiles(p);
    return p.endsWith(".ts") ? [p] : [];
  });
}

/** Relative module specifiers of a file: static imports and re-exports, `import("...")` types, side-effect imports. */
function specifiers(source: string): string[] {
  const out: string[] = [];
  const patterns = [/\bfrom\s+["'](\.[^"']*)["']/g, /\bimport\s*\(\s*["'](\.[^"']*)["']\s*\)/g, /^\s*import\s+["'](\.[^"']*)["']/gm];
  for (const re of patterns) for (const m of source.matchAll(re)) out.push(m[1]!);
  return out;
}

function resolveImport(from: string, spec: string): string | null {
  const base = resolve(dirname(from), spec);
  for (const candidate of [base, `${base}.ts`, join(base, "index.ts")]) {
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not this one
    }
  }
  return null;
}

/** The import graph over the files of `dirs` (edges to files outside them are dropped). */
function importGraph(dirs: string[]): Map<string, string[]> {
  const files = dirs.flatMap((d) => tsFiles(join(root, d)));
  const known = new Set(files);
  const graph = new Map<string, string[]>();
  for (const f of files) {
    const deps = specifiers(readFileSync(f, "utf8"))
      .map((s) => resolveImport(f, s))
      .filter((p): p is string => p !== null && known.has(p));
    graph.set(f, [...new Set(deps)]);
  }
  return graph;
}

/** Every elementary cycle found by a depth-first search (each reported once, by its first file). */
function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, "active" | "done">();
  const stack: string[] = [];
  const visit = (f: string): void => {
    state.set(f, "active");
    stack.push(f);
    for (const d of graph.get(f) ?? []) {
      if (state.get(d) === "active") found.push([...stack.slice(stack.indexOf(d)), d]);
      else if (!state.has(d)) visit(d);
    }
    stack.pop();
    state.set(f, "done");
  };
  for (const f of [...graph.keys()].sort()) if (!state.has(f)) visit(f);
  return found;
}

const rel = (f: string) => relative(root, f);

describe("import graph", () => {
  it("has no cycle in packages/compiler/src", () => {
    const graph = importGraph(["packages/compiler/src"]);
    expect(graph.size).toBeGreaterThan(25);
    const found = cycles(graph).map((c) => c.map(rel).join(" → "));
    expect(found, `import cycles:\n${found.join("\n")}`).toEqual([]);
  });

  it("finds a cycle when there is one (the checker itself)", () => {
    const g = new Map([
      ["a", ["b"]],
      ["b", ["c"]],
      ["c", ["a"]],
      ["d", ["a"]],
    ]);
    expect(cycles(g)).toEqual([["a", "b", "c", "a"]]);
  });

  it("has the compiler's stages depend one way: passes, lowering → memory plan → codegen → compile", () => {
    // A stage may import its own files and earlier stages' only.
    const order = ["passes", "lower", "memory", "codegen", "compile"];
    const stageOf = (f: string): number => {
      const r = relative(join(root, "packages/compiler/src"), f);
      if (r === "compile.ts") return order.indexOf("compile");
      const top = r.split("/")[0]!;
      return order.indexOf(top);
    };
    const graph = importGraph(["packages/compiler/src"]);
    const wrong: string[] = [];
    for (const [f, deps] of graph) {
      const s = stageOf(f);
      if (s < 0) continue;
      for (const d of deps) {
        const t = stageOf(d);
        // passes and lowering are independent stages of the IR: neither imports the other.
        const independent = (order[s] === "passes" && order[t] === "lower") || (order[s] === "lower" && order[t] === "passes");
        if (t > s || independent) wrong.push(`${rel(f)} → ${rel(d)}`);
      }
    }
    expect(wrong, `imports against the stage order:\n${wrong.join("\n")}`).toEqual([]);
  });
});
