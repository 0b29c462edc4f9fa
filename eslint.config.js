// ESLint: typescript-eslint's type-checked recommended rules over the whole project (sources,
// tests, examples, bench), run by `npm run lint` and by .ci/run. Formatting is Prettier's.
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/**", "**/dist/**", "examples/browser/dist/**", ".ci/**", "**/*.js", "**/*.mjs", "**/*.cjs"] },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
  },
);
