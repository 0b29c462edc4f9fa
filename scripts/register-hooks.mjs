// `tsx --import ./scripts/register-hooks.mjs file.ts`: loads binaryen's 15 MB ES module as plain
// Node would (tsx's rewrite of it takes ~30 s); see bench/loader-hooks.mjs.
import { register } from "node:module";
register("../bench/loader-hooks.mjs", import.meta.url);
