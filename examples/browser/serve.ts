/**
 * A tiny static file server for the browser example (node:http, no dependencies): serves one
 * directory on 127.0.0.1 with the MIME types browsers insist on (`application/wasm` for
 * `.wasm`, `text/javascript` for module scripts). Nothing outside the directory is served.
 *
 * Run: `npx tsx examples/browser/serve.ts [DIR] [--port N]` (DIR defaults to examples/browser/dist).
 */
import { createServer, type Server } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import type { AddressInfo } from "node:net";

/** The content types this server sends, by file extension. */
export const MIME_TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".json": "application/json",
  ".wasm": "application/wasm",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json",
};

export interface StaticServer {
  /** `http://127.0.0.1:PORT/` */
  url: string;
  server: Server;
  close(): Promise<void>;
}

/**
 * Serves `dir` on 127.0.0.1 (`port` 0, the default, picks a free port). `GET /` is
 * `index.html`; a missing file is a 404, a path leaving `dir` a 403.
 */
export async function serveStatic(dir: string, opts: { port?: number } = {}): Promise<StaticServer> {
  const root = resolve(dir);
  const server = createServer((req, res) => {
    // The handler catches its own failures; nothing waits for it.
    void (async () => {
      let pathname: string;
      try {
        pathname = decodeURIComponent(new URL(req.url ?? "/", "http://localhost").pathname);
      } catch {
        res.writeHead(400, { "content-type": "text/plain" }).end("bad request");
        return;
      }
      const file = resolve(join(root, pathname.endsWith("/") ? `${pathname}index.html` : pathname));
      if (file !== root && !file.startsWith(root + sep)) {
        res.writeHead(403, { "content-type": "text/plain" }).end("forbidden");
        return;
      }
      try {
        const body = await readFile(file);
        res.writeHead(200, {
          "content-type": MIME_TYPES[extname(file)] ?? "application/octet-stream",
          "content-length": body.length,
          "cache-control": "no-store",
        });
        res.end(req.method === "HEAD" ? undefined : body);
      } catch {
        res.writeHead(404, { "content-type": "text/plain" }).end(`not found: ${pathname}`);
      }
    })();
  });
  await new Promise<void>((ok, fail) => {
    server.once("error", fail);
    server.listen(opts.port ?? 0, "127.0.0.1", ok);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    server,
    close: () => new Promise<void>((ok, fail) => server.close((e) => (e ? fail(e) : ok()))),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const portAt = args.indexOf("--port");
  const port = portAt >= 0 ? Number(args[portAt + 1]) : 8080;
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`serve: --port ${args[portAt + 1]} is not a port number — pass an integer from 0 to 65535`);
    process.exit(2);
  }
  const dir =
    args.find((a, i) => !a.startsWith("--") && (portAt < 0 || i !== portAt + 1)) ?? fileURLToPath(new URL("./dist/", import.meta.url));
  const { url } = await serveStatic(dir, { port });
  console.log(`serving ${dir} at ${url} (Ctrl-C to stop)`);
}
