import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

describe("examples", () => {
  it("examples/ir.ts prints the jaxpr and the same value eagerly and interpreted", () => {
    const out = execFileSync("npx", ["tsx", "examples/ir.ts"], { encoding: "utf8" });
    expect(out).toContain("{ lambda ; a:f32[3,2] b:f32[2] c:f32[4,3]. let");
    expect(out).toContain("dot_general[");
    expect(out).toContain("custom_jvp_call[\n      name=relu");
    const eager = /eager:\s+(.*)/.exec(out)?.[1];
    const interp = /interpreted:\s+(.*)/.exec(out)?.[1];
    expect(eager).toBe("Array(0.36136362, dtype=float32)");
    expect(interp).toBe(eager);
  });
});

describe("the README's first command", () => {
  it("npm run example trains the seed model for 5 steps and prints predictions", () => {
    const out = execFileSync("npm", ["run", "--silent", "example"], { encoding: "utf8" });
    const losses = [...out.matchAll(/step (\d): loss ([\d.]+)/g)].map((m) => Number(m[2]));
    expect(losses).toHaveLength(5);
    losses.slice(1).forEach((l, i) => expect(l).toBeLessThan(losses[i]!));
    expect(out).toContain("predictions on 5 test points:");
    // The README shows this output verbatim (the block after "It prints:"): keep them equal.
    const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");
    const shown = /It prints:\n\n```\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(shown, "README's shown output of npm run example").toBe(out.trim() + "\n");
  });
});

describe("examples/train-mlp.ts", () => {
  it("trains the BatchNorm + Dropout MLP on spirals past 95% held-out accuracy with one compilation", async () => {
    const { main } = await import("../examples/train-mlp");
    const lines: string[] = [];
    const res = main({ log: (s) => lines.push(s), tty: false });
    expect(lines.filter((l) => l.startsWith("["))).toHaveLength(6); // progress every 50 steps
    expect(res.testAcc).toBeGreaterThan(0.95);
    expect(res.trainAcc).toBeGreaterThan(0.95);
    expect(res.makeStep.stats().misses).toBe(1);
    expect(lines.at(-1)).toMatch(/^train accuracy \d+\.\d%, test accuracy \d+\.\d% \(chance: 33\.3%\)/);
  });
});
