import { describe, expect, it } from "vitest";

describe("examples/cnn.ts", () => {
  it("trains Conv2d + MaxPool2d + Linear with AdamW on warm-up cosine past 95% held-out accuracy with one compilation", async () => {
    const { main } = await import("../examples/cnn");
    const lines: string[] = [];
    const res = main({ log: (s) => lines.push(s), tty: false });
    expect(lines.filter((l) => l.startsWith("["))).toHaveLength(4); // progress every 50 steps
    expect(res.testAcc).toBeGreaterThan(0.95);
    expect(res.trainAcc).toBeGreaterThan(0.95);
    expect(res.makeStep.stats().misses).toBe(1);
    expect(lines.at(-1)).toMatch(/^train accuracy \d+\.\d%, test accuracy \d+\.\d% \(chance: 25\.0%\)/);
  });
});
