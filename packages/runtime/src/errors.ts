/**
 * Errors of `@wax/runtime`. Messages have the wax form `<op>: <what is wrong> — <what to do>`.
 * The runtime does not depend on the tracer, so these mirror its `WaxError` (`name` is the
 * class name) instead of extending it.
 */

/** A refused artifact or call: bad manifest, wrong version, hash mismatch, missing feature, wrong inputs. */
export class ArtifactError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** The manifest is not JSON, does not match the schema, or describes an impossible layout or tree. */
export class ManifestError extends ArtifactError {}

/** The wasm and the manifest do not belong together: sha256, size or sealed manifest differ. */
export class IntegrityError extends ArtifactError {}

/** The wasm bytes do not compile or instantiate (garbage with a matching hash, an arena that cannot be allocated). */
export class WasmModuleError extends ArtifactError {}

/** The manifest or wasm could not be located or fetched (relative URL outside a browser, HTTP error). */
export class ArtifactFetchError extends ArtifactError {}
