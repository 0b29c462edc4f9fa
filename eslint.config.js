// ESLint: typescript-eslint's type-checked recommended rules over the whole project (sources,
// tests, examples, bench), run by `npm run lint` and by .ci/run. Formatting is Prettier's.
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["**/*.tmp.ts", "node_modules/**", "**/dist/**", "examples/browser/dist/**", ".ci/**", "scratch/**", "**/*.js", "**/*.mjs", "**/*.cjs"] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // The library is checked with noUncheckedIndexedAccess (tsconfig.src.json), where its `!`s
      // are needed; ESLint reads the root tsconfig, which lacks the flag, and would call them
      // unnecessary.
      "@typescript-eslint/no-unnecessary-type-assertion": "off",
      // Messages interpolate avals, shapes and dtypes, which have readable toString()s;
      // no-base-to-string still refuses objects that would print "[object Object]".
      "@typescript-eslint/restrict-template-expressions": "off",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" }],
    },
  },
  {
    // Tests and examples call Modules, whose call signature returns `any` (a Module's __call__
    // may return anything, as in Equinox), and the examples must read like the Python they port
    // (`x = this.linear1(x)`, no casts); the library and bench are held to the unsafe-any rules.
    files: ["packages/*/test/**/*.ts", "test/**/*.ts", "examples/**/*.ts"],
    rules: {
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-unsafe-return": "off",
    },
  },
);
