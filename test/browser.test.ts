/**
 * The browser example (`examples/browser/`): the page is built into a temp dir, served over
 * HTTP on 127.0.0.1, and run in headless Chromium (Debian's `chromium` driven by
 * playwright-core). The float32 bits it prints must equal those of the same artifact run in
 * Node with `load`, and those of the in-process jitted `evaluate`.
 *
 * Without /usr/bin/chromium (`.ci/run` installs it) the browser step cannot run: the test warns
 * loudly and still checks the bundle, the HTTP serving and the Node run.
 */
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromium } from "playwright-core";
import { load, type RuntimeArray } from "@wax/runtime";
import { build, type BuildResult, type EvaluateExample } from "../examples/browser/build";
import { serveStatic, type StaticServer } from "../examples/browser/serve";
import type { PageOutput } from "../examples/browser/main";

const CHROMIUM = "/usr/bin/chromium";

const hexBits = (x: Float32Array) => [...new Uint32Array(x.buffer, x.byteOffset, x.length)].map((b) => b.toString(16).padStart(8, "0"));

let dir: string;
let built: BuildResult;
let example: EvaluateExample;
let server: StaticServer;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "wax-browser-"));
  const { irExamples } = await import("../examples/stateful");
  example = irExamples.evaluate();
  built = await build({ outDir: dir, example });
  server = await serveStatic(dir);
}, 180_000);

afterAll(async () => {
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** The in-process jitted `evaluate` on the seed's test points. */
function jittedBits(): string[] {
  const out = example.fn(example.args[0]!);
  return hexBits(out.concreteValue()!.data as Float32Array);
}

describe("examples/browser", () => {
  it("bundles the page with @wax/runtime and zod only: no Binaryen, tracer or compiler, no eval", async () => {
    const sources = built.pageInputs;
    expect(sources).toContain("examples/browser/main.ts");
    expect(sources).toContain("packages/runtime/src/load.ts");
    const outside = sources.filter(
      (s) => !s.startsWith("packages/runtime/") && !s.startsWith("node_modules/zod/") && s !== "examples/browser/main.ts",
    );
    expect(outside).toEqual([]);
    const bytes = await readFile(join(dir, "main.js"));
    expect(bytes.length).toBe(built.page.bytes);
    const js = bytes.toString("utf8");
    for (const banned of [/binaryen/i, /traceFlat/, /@wax\/tracer/, /@wax\/compiler/, /new Function/, /\beval\(/])
      expect(js).not.toMatch(banned);
    // Minified and gzipped sizes are reported; gzip must actually shrink it.
    expect(built.page.gzipBytes).toBeGreaterThan(0);
    expect(built.page.gzipBytes).toBeLessThan(built.page.bytes);
    expect(built.runtime.gzipBytes).toBeLessThan(built.runtime.bytes);
    console.log(
      `browser bundle: main.js ${built.page.bytes} B min, ${built.page.gzipBytes} B min+gzip; @wax/runtime (all exports) ${built.runtime.bytes} B min, ${built.runtime.gzipBytes} B min+gzip`,
    );
  });

  it("serves the page, bundle and artifact over HTTP with their MIME types", async () => {
    const expected: [string, string][] = [
      ["", "text/html; charset=utf-8"],
      ["index.html", "text/html; charset=utf-8"],
      ["main.js", "text/javascript; charset=utf-8"],
      ["inputs.json", "application/json"],
      ["evaluate.manifest.json", "application/json"],
      ["evaluate.wasm", "application/wasm"],
    ];
    for (const [path, type] of expected) {
      const res = await fetch(server.url + path);
      expect(res.status, path).toBe(200);
      expect(res.headers.get("content-type"), path).toBe(type);
      const body = new Uint8Array(await res.arrayBuffer());
      expect(body).toEqual(new Uint8Array(await readFile(join(dir, path || "index.html"))));
    }
    expect((await fetch(server.url + "missing.js")).status).toBe(404);
    expect((await fetch(server.url + "..%2f..%2fetc%2fpasswd")).status).toBe(403);
    // The served wasm is the one the manifest hashes.
    const wasm = new Uint8Array(await (await fetch(server.url + "evaluate.wasm")).arrayBuffer());
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", wasm));
    expect([...digest].map((b) => b.toString(16).padStart(2, "0")).join("")).toBe(built.manifest.wasm.sha256);
  });

  it("Node and headless Chromium run the served artifact bit for bit like the jitted evaluate", async () => {
    // The page's inputs are the seed's test points, exactly.
    expect(built.inputs.shape).toEqual([5, 3]);
    expect(hexBits(Float32Array.from(built.inputs.data))).toEqual(hexBits(example.args[0]!.concreteValue()!.data as Float32Array));
    const jitted = jittedBits();

    // Node, from the files on disk and from the same URL the page loads.
    const manifest = JSON.parse(await readFile(join(dir, "evaluate.manifest.json"), "utf8"));
    const fromDisk = (await load(manifest, await readFile(join(dir, "evaluate.wasm"))))(
      Float32Array.from(built.inputs.data),
    ) as RuntimeArray;
    expect(fromDisk.shape).toEqual([5, 3]);
    const nodeBits = hexBits(fromDisk.data as Float32Array);
    expect(nodeBits).toEqual(jitted);
    const fromUrl = (await load(server.url + "evaluate.manifest.json"))(Float32Array.from(built.inputs.data)) as RuntimeArray;
    expect(hexBits(fromUrl.data as Float32Array)).toEqual(nodeBits);

    if (!existsSync(CHROMIUM)) {
      console.warn(
        [
          "",
          "!".repeat(78),
          `!! BROWSER CHECK NOT RUN: ${CHROMIUM} does not exist.`,
          "!! The page was built, served and its artifact checked in Node, but no browser ran it.",
          "!! Install Debian's chromium (`apt-get install -y chromium`, as .ci/run does) to run it.",
          "!".repeat(78),
          "",
        ].join("\n"),
      );
      return;
    }

    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
    try {
      const page = await browser.newPage();
      expect(await page.evaluate(() => navigator.userAgent)).toMatch(/HeadlessChrome\//);
      const logs: string[] = [];
      page.on("console", (m) => logs.push(`console.${m.type()}: ${m.text()}`));
      page.on("pageerror", (e) => logs.push(`pageerror: ${e.message}`));
      page.on("requestfailed", (r) => logs.push(`requestfailed: ${r.url()} ${r.failure()?.errorText}`));
      await page.goto(server.url);
      await page.waitForSelector('body:not([data-status="running"])', { timeout: 30_000 });
      const status = await page.getAttribute("body", "data-status");
      const text = (await page.textContent("#out")) ?? "";
      expect(status, `the page failed: ${text}\n${logs.join("\n")}`).toBe("done");
      const printed = JSON.parse(text) as PageOutput;
      expect(printed.shape).toEqual([5, 3]);
      expect(printed.dtype).toBe("float32");
      // The printed values are the float32s the bits say (JSON round-trips a float32 exactly).
      expect(hexBits(Float32Array.from((printed.values as number[][]).flat()))).toEqual(printed.bits);
      expect(printed.bits).toEqual(nodeBits);
      expect(printed.bits).toEqual(jitted);
    } finally {
      await browser.close();
    }
  });
});
