/** Command-line options of `wax`, parsed from argv and validated with zod. */
import { z } from "zod";

export const STAGES = ["jaxpr", "optimized", "kernels", "wat"] as const;
export const FORMATS = ["text", "json", "dot"] as const;

const file = z
  .string()
  .min(1)
  .regex(/\.(ts|mts|js|mjs)$/, "must be a .ts, .mts, .js or .mjs file");
const name = z.string().regex(/^[A-Za-z_$][\w$]*$/, "must be an exported name (an identifier)");

export const irOptions = z.strictObject({
  command: z.literal("ir"),
  file,
  fn: z.optional(name),
  stage: z.enum(STAGES).default("jaxpr"),
  format: z.enum(FORMATS).default("text"),
  out: z.optional(z.string().min(1)),
});

export const exportOptions = z.strictObject({
  command: z.literal("export"),
  file,
  fn: name,
  out: z.string().min(1),
});

export const cliOptions = z.discriminatedUnion("command", [irOptions, exportOptions]);
export type IrOptions = z.infer<typeof irOptions>;
export type ExportOptions = z.infer<typeof exportOptions>;
export type CliOptions = z.infer<typeof cliOptions>;

export class UsageError extends Error {
  override name = "UsageError";
}

export const USAGE = `usage:
  wax ir <file.ts> [--fn NAME] [--stage jaxpr|optimized|kernels|wat] [--format text|json|dot] [--out PATH]
  wax export <file.ts> --fn NAME --out DIR

The module declares example arguments in an exported \`irExamples\` object:
  export const irExamples = { NAME: () => [arg1, arg2, ...] }            // NAME is an exported function
  export const irExamples = { NAME: () => ({ fn, args: [arg1, ...] }) }  // any function
`;

/** argv (after `wax`) → validated options. */
export function parseArgs(argv: readonly string[]): CliOptions {
  const [command, ...rest] = argv;
  if (command === undefined || command === "help" || command === "--help" || command === "-h") throw new UsageError(USAGE);
  const raw: Record<string, unknown> = { command };
  const positional: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if (a.startsWith("--")) {
      const [k, inline] = a.slice(2).split("=", 2) as [string, string | undefined];
      const v = inline ?? rest[++i];
      if (v === undefined) throw new UsageError(`wax ${command}: option --${k} needs a value\n\n${USAGE}`);
      raw[k] = v;
    } else positional.push(a);
  }
  if (positional.length !== 1)
    throw new UsageError(
      `wax ${command}: expected one module file, got ${positional.length === 0 ? "none" : positional.join(" ")}\n\n${USAGE}`,
    );
  raw["file"] = positional[0];
  const res = cliOptions.safeParse(raw);
  if (!res.success) {
    const issues = res.error.issues.map((i) => `${i.path.length ? `--${i.path.join(".")}` : "command"}: ${i.message}`).join("; ");
    throw new UsageError(`wax ${command}: ${issues}\n\n${USAGE}`);
  }
  return res.data;
}
