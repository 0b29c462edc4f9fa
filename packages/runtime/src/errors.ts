/** A refused artifact or call: bad manifest, wrong version, hash mismatch, missing feature, wrong inputs. */
export class ArtifactError extends Error {
  override name = "ArtifactError";
}
